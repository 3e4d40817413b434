import Glibc

/// Why `HTTPServer.start()` failed.
package struct HTTPServerError: Error, Equatable, CustomStringConvertible {
    private enum Kind: Equatable {
        case addressInUse(host: String, port: Int)
        case invalidAddress(host: String, port: Int, reason: String)
        case alreadyStarted
        case system(call: String, errno: Int32)
    }

    private let kind: Kind

    private init(_ kind: Kind) { self.kind = kind }

    /// Another socket is already bound to the address and port.
    package static func addressInUse(host: String, port: Int) -> HTTPServerError {
        HTTPServerError(.addressInUse(host: host, port: port))
    }

    /// The host could not be resolved to an address to bind.
    static func invalidAddress(host: String, port: Int, reason: String) -> HTTPServerError {
        HTTPServerError(.invalidAddress(host: host, port: port, reason: reason))
    }

    /// `start()` was called a second time.
    static let alreadyStarted = HTTPServerError(.alreadyStarted)

    /// A socket call failed with `errno`.
    static func system(_ call: String, errno: Int32) -> HTTPServerError {
        HTTPServerError(.system(call: call, errno: errno))
    }

    /// Whether the failure was an address already in use.
    package var isAddressInUse: Bool {
        if case .addressInUse = self.kind { return true }
        return false
    }

    package var description: String {
        switch self.kind {
        case .addressInUse(let host, let port):
            return "cannot listen on \(host):\(port): address already in use"
        case .invalidAddress(let host, let port, let reason):
            return "cannot listen on \(host):\(port): \(reason)"
        case .alreadyStarted:
            return "the server was already started"
        case .system(let call, let code):
            return "\(call) failed: \(String(cString: strerror(code))) (errno \(code))"
        }
    }
}
