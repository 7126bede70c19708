package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"refundledger/proto"
)

// QuarantineSubject holds bodies that passed the signature check (when it
// is enforced) but are not JSON, or are JSON but no Xportcn envelope. It is
// inside StreamSubjects, so these bodies are stored; each carries
// HeaderQuarantine with the reason.
const QuarantineSubject = "xportcn.cb.quarantine"

// Header names set on every stored message. They are proto's constants (the
// projector reads them back); repeated here for the ingest contract.
const (
	HeaderReceiptID  = proto.HeaderReceiptID  // ULID, also returned in the 200 answer
	HeaderReceivedAt = proto.HeaderReceivedAt // RFC 3339 with nanoseconds, UTC
	HeaderSignature  = proto.HeaderSignature  // ok | bad | missing | stale | replayed | off
	HeaderMessageID  = proto.HeaderMessageID  // envelope id, only when present
	HeaderRetryCount = proto.HeaderRetryCount // envelope retryCount (decimal), only for envelopes
	HeaderQuarantine = proto.HeaderQuarantine // only on QuarantineSubject: why the body is not JSON or not an envelope
)

// Subject returns the subject a routed callback is stored under:
//
//	xportcn.cb.<platform>.<messageType>.<orderId>
//
// platform is "1688", "taobao" or "unknown"; messageType is the normalized
// type (no 1688_/TAOBAO_ prefix); orderId is "_" when the body names none.
// Every token contains only [A-Za-z0-9_-] (other bytes become '_'), is never
// empty and is at most 64 bytes long, so the result is always a valid,
// wildcard-free five-token subject.
func Subject(r proto.Route) string {
	var b strings.Builder
	b.Grow(len("xportcn.cb...") + 3*proto.MaxSubjectToken)
	b.WriteString("xportcn.cb.")
	b.WriteString(platformToken(r.Platform))
	b.WriteByte('.')
	b.WriteString(proto.SubjectToken(r.Type))
	b.WriteByte('.')
	b.WriteString(proto.SubjectToken(r.OrderID))
	return b.String()
}

// MsgID returns the Nats-Msg-Id of a routed callback. It is a hash of what
// the message says: platform, normalized type, envelope id and message body;
// the envelope's retryCount and timestamp are outside it, so every retry of a
// message maps to the same id. With an envelope id it reads
// "xp-<platform>-<id>-<16 hex digits of the hash>", the id for people to find,
// the hash so that a body sent under somebody else's id (unsigned, in the
// modes that store those) is not taken for a duplicate of it, nor is one of
// two ids that read the same in a subject token ("1.2", "1 2"). Without one it
// is "h-" and the hex SHA-256.
func MsgID(r proto.Route) string {
	p := platformToken(r.Platform)
	h := sha256.New()
	h.Write([]byte(p))
	h.Write([]byte{0})
	h.Write([]byte(r.Type))
	h.Write([]byte{0})
	if r.ID != "" {
		h.Write([]byte(r.ID))
		h.Write([]byte{0})
	}
	h.Write(r.Body)
	sum := h.Sum(nil)
	if r.ID != "" {
		return "xp-" + p + "-" + proto.SubjectToken(r.ID) + "-" + hex.EncodeToString(sum[:8])
	}
	return "h-" + hex.EncodeToString(sum)
}

// quarantineMsgID identifies a quarantined body by its bytes, so a sender
// retrying the same unreadable body stores it once.
func quarantineMsgID(body []byte) string {
	sum := sha256.Sum256(body)
	return "q-" + hex.EncodeToString(sum[:])
}

func platformToken(p proto.Platform) string {
	switch p {
	case proto.Platform1688, proto.PlatformTaobao:
		return string(p)
	}
	return string(proto.PlatformUnknown)
}
