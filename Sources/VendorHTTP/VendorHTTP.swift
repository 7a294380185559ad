// VendorHTTP: module under construction.
