package proto

import (
	"bytes"
	"errors"
	"fmt"
)

// Errors returned by DecodeEnvelope. They wrap the decoder's own error where
// there is one; callers test them with errors.Is.
var (
	// ErrNotJSON: the bytes are not a JSON document.
	ErrNotJSON = errors.New("not JSON")
	// ErrNotEnvelope: JSON, but not an Xportcn envelope (not an object, or no messageType).
	ErrNotEnvelope = errors.New("not an Xportcn envelope")
)

// Envelope is the part of a callback that routing and folding need. Body is
// the message body as raw JSON: when Xportcn sent messageBody as a
// JSON-encoded string, Body is that string's content.
type Envelope struct {
	Type       string   // normalized message type (no 1688_/TAOBAO_ prefix)
	RawType    string   // messageType exactly as sent
	Platform   Platform // from messagePlatform, else from the type prefix
	ID         string   // Xportcn message id (decimal), "" when absent
	DevelopID  string   // developer id (decimal), "" when absent
	RetryCount int64    // earlier delivery attempts, 0 when absent
	PushedAt   int64    // envelope timestamp, epoch ms; 0 when absent
	Body       []byte   // messageBody as raw JSON; nil when absent or null
}

// DecodeEnvelope decodes the envelope of a callback. It validates the whole
// document but decodes only the envelope fields; the body is returned raw
// (aliasing b when it was an object, a fresh copy when it was a JSON-encoded
// string). Errors wrap ErrNotJSON (b is not one JSON value) or ErrNotEnvelope
// (not an object, no messageType, or a field of an unusable type) and say what is wrong. It never panics, and runs in
// time linear in len(b).
func DecodeEnvelope(b []byte) (Envelope, error) {
	it, ok := newObjectIter(b, 0)
	if !ok {
		if !validJSON(b) {
			return Envelope{}, notJSON(syntaxErr(b, 0, "expected a value"))
		}
		return Envelope{}, fmt.Errorf("%w: top level is not an object", ErrNotEnvelope)
	}
	var c Callback
	var rawBody []byte
	var fieldErr error
	for {
		key, val, ok := it.next()
		if !ok {
			break
		}
		switch {
		case string(key) == "messageBody":
			rawBody = val
		case fieldErr == nil: // after a bad field, keep validating: bad JSON outranks it
			fieldErr = c.envelopeField(key, val)
		}
	}
	if it.err != nil {
		return Envelope{}, notJSON(it.err)
	}
	if err := c.finishEnvelope(fieldErr, rawBody); err != nil {
		return Envelope{}, err
	}
	return c.Envelope, nil
}

// unwrapBody returns the body as raw bytes: a string-encoded body is
// unquoted (its content is not checked here; the body decoders validate it);
// null or absent is nil.
func unwrapBody(raw []byte) []byte {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if raw[0] != '"' {
		return raw
	}
	inner := raw[1 : len(raw)-1] // the scanner validated the string
	if bytes.IndexByte(inner, '\\') >= 0 {
		return trimSpace(unescapeBytes(inner))
	}
	return trimSpace(append([]byte(nil), inner...))
}
