package proto

// Platform is the marketplace a callback concerns. Its string form is used in
// NATS subjects, Pebble keys and URLs.
type Platform string

// The platforms. PlatformUnknown routes callbacks whose messagePlatform is
// missing or not one of the documented codes.
const (
	Platform1688    Platform = "1688"
	PlatformTaobao  Platform = "taobao"
	PlatformUnknown Platform = "unknown"
)

// PlatformFromCode maps Xportcn's messagePlatform (0 = Taobao, 1 = 1688).
func PlatformFromCode(code string) Platform {
	switch code {
	case "1":
		return Platform1688
	case "0":
		return PlatformTaobao
	}
	return PlatformUnknown
}

// ParsePlatform accepts the string form used in URLs and subjects
// ("1688", "taobao"); ok is false for anything else.
func ParsePlatform(s string) (p Platform, ok bool) {
	switch Platform(s) {
	case Platform1688, PlatformTaobao:
		return Platform(s), true
	}
	return "", false
}
