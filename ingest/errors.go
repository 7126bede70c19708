package ingest

import (
	"net/http"
	"strconv"

	"refundledger/proto"
)

// ErrorCode is the machine-readable code of an error answer.
type ErrorCode = string

// The error codes of this endpoint and the HTTP status each maps to. They are
// the service-wide codes of proto where one exists.
const (
	CodeBadRequest       ErrorCode = proto.CodeBadRequest       // 400: body is not JSON or could not be read
	CodeUnauthorized     ErrorCode = proto.CodeUnauthorized     // 401: signature not ok under ModeEnforce
	CodeMethodNotAllowed ErrorCode = proto.CodeMethodNotAllowed // 405: not GET, HEAD or POST
	CodeRequestTimeout   ErrorCode = "request_timeout"          // 408: body not received within the read timeout
	CodePayloadTooLarge  ErrorCode = proto.CodeTooLarge         // 413: body over Config.MaxBody
	CodeUnavailable      ErrorCode = proto.CodeUnavailable      // 503: NATS slow or down, overloaded, or shutting down
)

// RetryAfter is the Retry-After value (seconds) sent with every 503.
const RetryAfter = 1

// ErrorBody is the JSON of every error answer, the service-wide shape
// {"error":{"code":"<snake_code>","message":"<text>"}}.
type ErrorBody = proto.ErrorBody

// SuccessBody is the JSON of a 200 answer to a callback. ReceiptID is empty
// for a verification probe (nothing stored) and, for a duplicate, is the
// receipt of the stored original when it could be read back.
type SuccessBody struct {
	Code      int    `json:"code"`
	Msg       string `json:"msg"`
	ReceiptID string `json:"receiptId,omitempty"`
}

// status maps an error code to its HTTP status.
func status(c ErrorCode) int {
	switch c {
	case CodeBadRequest:
		return http.StatusBadRequest
	case CodeUnauthorized:
		return http.StatusUnauthorized
	case CodeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case CodeRequestTimeout:
		return http.StatusRequestTimeout
	case CodePayloadTooLarge:
		return http.StatusRequestEntityTooLarge
	case CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// writeError is the one place where error codes become HTTP answers.
func writeError(w http.ResponseWriter, code ErrorCode, msg string) {
	h := w.Header()
	switch code {
	case CodeMethodNotAllowed:
		h.Set("Allow", "GET, HEAD, POST")
	case CodeUnavailable:
		h.Set("Retry-After", strconv.Itoa(RetryAfter))
	case CodePayloadTooLarge, CodeRequestTimeout:
		h.Set("Connection", "close")
	}
	proto.WriteError(w, status(code), code, msg)
}

// writeSuccess answers 200 with a SuccessBody. It is on every callback's
// path, so a receipt id that needs no JSON escaping (a ULID always) is
// written without encoding/json; the bytes are the same (ingest tests
// compare them).
func writeSuccess(w http.ResponseWriter, receiptID string) {
	if !plainJSONString(receiptID) {
		proto.WriteJSON(w, http.StatusOK, SuccessBody{Code: 200, Msg: "success", ReceiptID: receiptID})
		return
	}
	b := make([]byte, 0, len(successHead)+len(receiptID)+len(successTail))
	if receiptID == "" {
		b = append(b, successProbe...)
	} else {
		b = append(append(append(b, successHead...), receiptID...), successTail...)
	}
	proto.WriteJSONBytes(w, http.StatusOK, b)
}

const (
	successProbe = `{"code":200,"msg":"success"}` + "\n"
	successHead  = `{"code":200,"msg":"success","receiptId":"`
	successTail  = `"}` + "\n"
)

// plainJSONString reports whether s is written into a JSON string as it is
// by encoding/json: printable ASCII without quote, backslash or the
// characters it escapes for HTML.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20, c >= 0x7f, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}
