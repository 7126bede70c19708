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
			return Envelope{}, fmt.Errorf("%w: %v", ErrNotJSON, syntaxErr(b, 0, "not a JSON value"))
		}
		return Envelope{}, fmt.Errorf("%w: top level is not an object", ErrNotEnvelope)
	}
	var env Envelope
	var rawBody []byte
	var fieldErr error
	for {
		key, val, ok := it.next()
		if !ok {
			break
		}
		if fieldErr != nil {
			continue // keep validating: bad JSON outranks a bad field
		}
		var err error
		switch string(key) {
		case "messageType":
			env.RawType, err = textValue(val)
		case "messageBody":
			rawBody = val
		case "messagePlatform":
			var code string
			if code, err = textValue(val); err == nil {
				env.Platform = PlatformFromCode(code)
			}
		case "timestamp":
			env.PushedAt, err = timeValue(val)
		case "retryCount":
			env.RetryCount, err = intValue(val)
		case "developId":
			env.DevelopID, err = idValue(val)
		case "id":
			env.ID, err = idValue(val)
		}
		if err != nil {
			fieldErr = fmt.Errorf("%s: %w", key, err)
		}
	}
	if it.err != nil {
		return Envelope{}, fmt.Errorf("%w: %v", ErrNotJSON, it.err)
	}
	if fieldErr != nil {
		return Envelope{}, fmt.Errorf("%w: %v", ErrNotEnvelope, fieldErr)
	}
	if env.RawType == "" {
		return Envelope{}, fmt.Errorf("%w: messageType is missing or empty", ErrNotEnvelope)
	}
	typ, prefixPlatform := NormalizeType(env.RawType)
	env.Type = typ
	if env.Platform == "" || env.Platform == PlatformUnknown {
		env.Platform = prefixPlatform
	}
	env.Body = unwrapBody(rawBody)
	return env, nil
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
