package proto

import (
	"bytes"
	"encoding/json"
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
	Body       []byte   // messageBody as raw JSON; nil when absent
}

type wireEnvelope struct {
	MessageType     Str             `json:"messageType"`
	MessageBody     json.RawMessage `json:"messageBody"`
	MessagePlatform Str             `json:"messagePlatform"`
	Timestamp       Millis          `json:"timestamp"`
	RetryCount      Int             `json:"retryCount"`
	DevelopID       ID              `json:"developId"`
	ID              ID              `json:"id"`
}

// DecodeEnvelope decodes the envelope of a callback. It does not decode the
// body beyond unwrapping a string-encoded one. Errors wrap ErrNotJSON or
// ErrNotEnvelope and say what is wrong.
func DecodeEnvelope(b []byte) (Envelope, error) {
	var w wireEnvelope
	if err := json.Unmarshal(b, &w); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field == "" {
			return Envelope{}, fmt.Errorf("%w: top level is a JSON %s, not an object", ErrNotEnvelope, ute.Value)
		}
		if json.Valid(b) {
			return Envelope{}, fmt.Errorf("%w: %v", ErrNotEnvelope, err)
		}
		return Envelope{}, fmt.Errorf("%w: %v", ErrNotJSON, err)
	}
	if w.MessageType == "" {
		return Envelope{}, fmt.Errorf("%w: messageType is missing or empty", ErrNotEnvelope)
	}
	typ, prefixPlatform := NormalizeType(string(w.MessageType))
	env := Envelope{
		Type:       typ,
		RawType:    string(w.MessageType),
		Platform:   PlatformFromCode(string(w.MessagePlatform)),
		ID:         string(w.ID),
		DevelopID:  string(w.DevelopID),
		RetryCount: int64(w.RetryCount),
		PushedAt:   int64(w.Timestamp),
	}
	if env.Platform == PlatformUnknown {
		env.Platform = prefixPlatform
	}
	body, err := unwrapBody(w.MessageBody)
	if err != nil {
		return Envelope{}, fmt.Errorf("%w: messageBody: %v", ErrNotEnvelope, err)
	}
	env.Body = body
	return env, nil
}

// unwrapBody returns the body as raw JSON: a string-encoded body is unquoted;
// null or absent is nil.
func unwrapBody(raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '"' {
		return raw, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	return []byte(s), nil
}
