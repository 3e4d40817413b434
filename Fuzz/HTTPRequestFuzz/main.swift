// Placeholder: replaced by the request-parser fuzz target.
print("no fuzz target yet")
