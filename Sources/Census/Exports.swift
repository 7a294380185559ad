// The client's public API is written in VendorHTTP's vocabulary (VendorSecret, VendorError,
// RetryPolicy, RateLimiter, VendorJSON), so importing Census brings it along.
@_exported import VendorHTTP
