import Testing

@testable import JSONSchema

/// `format` as an assertion (opt in), with cases taken from the RFCs themselves: RFC 3339
/// section 5.8 examples and section 5.7 restrictions, RFC 3986 sections 1.1.2, 3 and 5.4 and its
/// grammar, RFC 4122 section 3.
@Suite("Format assertion")
struct FormatAssertionTests {
    static func check(_ format: String, valid: [String], invalid: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let schema = try JSONSchema(["format": .string(format)], options: .init(assertFormats: true))
        for text in valid {
            #expect(schema.isValid(.string(text)), "\(format): \"\(text)\" should be valid", sourceLocation: sourceLocation)
        }
        for text in invalid {
            #expect(!schema.isValid(.string(text)), "\(format): \"\(text)\" should be invalid", sourceLocation: sourceLocation)
        }
    }

    @Test func dateTimeFollowsRFC3339() throws {
        try Self.check(
            "date-time",
            valid: [
                // RFC 3339 section 5.8.
                "1985-04-12T23:20:50.52Z", "1996-12-19T16:39:57-08:00", "1990-12-31T23:59:60Z", "1990-12-31T15:59:60-08:00",
                "1937-01-01T12:00:27.87+00:20",
                // "T" and "Z" may be lower case (section 5.6 NOTE); a leap year's 29 February.
                "1985-04-12t23:20:50z", "2024-02-29T00:00:00Z", "2000-02-29T00:00:00Z", "2026-11-21T10:00:01.123456789+14:00",
            ],
            invalid: [
                "1985-04-12", "1985-04-12T23:20:50", "1985-04-12 23:20:50Z", "1985-04-12T23:20Z", "1985-13-12T23:20:50Z",
                "1985-04-31T23:20:50Z", "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "1985-04-12T24:00:00Z", "1985-04-12T23:60:00Z",
                "1985-04-12T23:20:61Z", "1985-04-12T23:20:50.Z", "1985-04-12T23:20:50+0800", "1985-04-12T23:20:50+24:00",
                // A leap second only at 23:59:60 UTC.
                "1990-12-31T23:58:60Z", "1990-12-31T23:59:60+01:00",
                "85-04-12T23:20:50Z", "1985-4-12T23:20:50Z", "１９８５-04-12T23:20:50Z", "yesterday", "",
            ])
    }

    @Test func dateAndTimeFollowRFC3339() throws {
        try Self.check("date", valid: ["1985-04-12", "2024-02-29", "0000-01-01"], invalid: ["1985-04-12T00:00:00Z", "1985-02-30", "1985-00-10", "19850412", "1985-04-1"])
        try Self.check(
            "time", valid: ["23:20:50.52Z", "16:39:57-08:00", "23:59:60Z", "15:59:60-08:00", "00:00:00z"],
            invalid: ["23:20:50", "23:20Z", "25:00:00Z", "23:59:60+01:00", "12:00:00+1:00", "12:00:00.Z"])
    }

    @Test func uriFollowsRFC3986() throws {
        let uris = [
            // RFC 3986 section 1.1.2.
            "ftp://ftp.is.co.za/rfc/rfc1808.txt", "http://www.ietf.org/rfc/rfc2396.txt", "ldap://[2001:db8::7]/c=GB?objectClass?one",
            "mailto:John.Doe@example.com", "news:comp.infosystems.www.servers.unix", "tel:+1-816-555-1212", "telnet://192.0.2.16:80/",
            "urn:oasis:names:specification:docbook:dtd:xml:4.1.2",
            // Section 3 and the grammar's corners.
            "foo://example.com:8042/over/there?name=ferret#nose", "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            "factory://public", "http://user:pw@host:/p%20q", "http://[v7.fe80::a+en1]/", "http://[::ffff:192.0.2.1]/", "s:", "a+b-c.d:/x",
            "http://example.com/?q=a/b?c#frag/with?marks",
        ]
        try Self.check(
            "uri", valid: uris,
            invalid: [
                "//example.com/path", "/relative/path", "relative", "", "1http://x", "http://exa mple.com/", "http://example.com/ä",
                "http://example.com/%zz", "http://example.com/%2", "http://[2001:db8::7/", "http://[2001:db8:::7]/", "http://[1:2:3:4:5:6:7:8:9]/",
                "http://host:80a/", "http://a@b@c/", "http://example.com/#frag#again", "http://[::256.1.1.1]/", "http://\\example.com",
            ])
        try Self.check(
            "uri-reference", valid: uris + ["//example.com/path", "/relative/path", "relative/path", "", "?query", "#fragment", "../up", "a/b:c"],
            invalid: ["a:b c", "\\\\windows\\path", "http://exa mple.com/", "%zz", "1a:b", "#frag#again"])
    }

    @Test func uuidFollowsRFC4122() throws {
        try Self.check(
            "uuid",
            valid: [
                // RFC 4122 section 3's example, the nil UUID, upper case, and versions beyond 5 (RFC 9562).
                "f81d4fae-7dec-11d0-a765-00a0c91e6bf6", "00000000-0000-0000-0000-000000000000", "F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6",
                "017f22e2-79b0-7cc3-98c4-dc0c0c07398f", "2489e9ad-2ee2-8e00-8ec9-32d5f69181c0",
            ],
            invalid: [
                "f81d4fae7dec11d0a76500a0c91e6bf6", "f81d4fae-7dec-11d0-a765-00a0c91e6bf", "f81d4fae-7dec-11d0-a765-00a0c91e6bf6a",
                "f81d4fae-7dec-11d0a765-00a0c91e6bf6-", "g81d4fae-7dec-11d0-a765-00a0c91e6bf6", "{f81d4fae-7dec-11d0-a765-00a0c91e6bf6}",
                "f81d4fa-e7dec-11d0-a765-00a0c91e6bf6",
            ])
    }

    @Test func ipAddresses() throws {
        try Self.check("ipv4", valid: ["192.0.2.16", "0.0.0.0", "255.255.255.255"], invalid: ["256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "a.b.c.d"])
        try Self.check(
            "ipv6", valid: ["2001:db8::7", "::", "::1", "1::", "1:2:3:4:5:6:7:8", "::ffff:192.0.2.1", "1:2:3:4:5:6:7::"],
            invalid: ["1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", ":1::", "1:2:3:4:5:6:7", "::ffff:256.0.2.1", "g::"])
    }

    @Test func formatIsAnAnnotationUnlessAsserted() throws {
        let schema = try JSONSchema(["type": "string", "format": "date-time"])
        #expect(schema.isValid("yesterday"))
        // Non-strings are not a format's business.
        let asserted = try JSONSchema(["format": "date-time"], options: .init(assertFormats: true))
        #expect(asserted.isValid(42))
        #expect(asserted.validate("yesterday").map(\.description) == ["/: string \"yesterday\" is not a valid date-time"])
    }

    @Test func anUnknownFormatIsRefusedWhenAsserted() throws {
        #expect(throws: SchemaCompilationError.self) {
            try JSONSchema(["format": "email"], options: .init(assertFormats: true))
        }
        _ = try JSONSchema(["format": "email"])
    }
}
