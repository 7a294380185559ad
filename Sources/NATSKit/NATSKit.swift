import CNATS
public enum NATSKitVersion { public static var cnats: String { String(cString: nats_GetVersion()) } }
