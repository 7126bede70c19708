package proto

// Headers the ingester puts on every message it stores in the callback
// stream. They are part of the record: the projector reads them back.
const (
	HeaderReceiptID  = "Refundledger-Receipt-Id"        // ULID given to the sender
	HeaderReceivedAt = "Refundledger-Received-At"       // RFC 3339 (nano) UTC
	HeaderSignature  = "Refundledger-Signature"         // ok | bad | missing | stale | replayed | off
	HeaderMessageID  = "Xportcn-Message-Id"             // envelope id, when present
	HeaderRetryCount = "Xportcn-Retry-Count"            // envelope retryCount
	HeaderQuarantine = "Refundledger-Quarantine-Reason" // why a body could not be parsed
)
