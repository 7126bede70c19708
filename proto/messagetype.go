package proto

import "strings"

// The documented message types, in their unprefixed form (as real payloads
// carry them).
const (
	TypeRefund      = "ORDER_BUYER_VIEW_ORDER_BUYER_REFUND"
	TypePriceModify = "ORDER_BUYER_VIEW_ORDER_PRICE_MODIFY"
	TypeOrderCreate = "ORDER_CREATE"
	TypeOrderPaid   = "ORDER_PAY_SUCCESS"
	TypeOrderCancel = "ORDER_CANCEL"
)

// NormalizeType strips the "1688_" / "TAOBAO_" prefix that Xportcn's doc pages
// put on type names and returns the bare type and the platform the prefix
// names (PlatformUnknown when there is none).
func NormalizeType(t string) (string, Platform) {
	switch {
	case strings.HasPrefix(t, "1688_"):
		return t[len("1688_"):], Platform1688
	case strings.HasPrefix(t, "TAOBAO_"):
		return t[len("TAOBAO_"):], PlatformTaobao
	case strings.HasPrefix(t, "taobao_"):
		return t[len("taobao_"):], PlatformTaobao
	}
	return t, PlatformUnknown
}

// IsOrderType reports whether t (normalized) is one of the flat order messages.
func IsOrderType(t string) bool {
	switch t {
	case TypePriceModify, TypeOrderCreate, TypeOrderPaid, TypeOrderCancel:
		return true
	}
	return false
}

// IsKnownType reports whether t (normalized) is a documented message type.
func IsKnownType(t string) bool { return t == TypeRefund || IsOrderType(t) }
