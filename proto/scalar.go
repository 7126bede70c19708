package proto

import (
	"bytes"
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// The scalar types below let encoding/json users (route.go, tests, other
// packages) decode Xportcn fields with the same tolerance as the package's own
// scanner: each accepts a JSON string or number (and null), never rounds and
// never goes through float64.

// ID is an identifier kept as its decimal string. It decodes from a JSON
// integer of any size or from a string, so ids beyond 2^53 stay exact. null
// and a missing field decode to "".
type ID string

// UnmarshalJSON implements json.Unmarshaler.
func (id *ID) UnmarshalJSON(b []byte) error {
	s, err := scalarText(trimSpace(b))
	if err != nil {
		return fmt.Errorf("id: %w", err)
	}
	*id = ID(s)
	return nil
}

// Int is an integer field (money in fen, codes, counts) that Xportcn may send
// as a JSON number or as a string holding one. null and "" decode to 0; a
// fraction or an exponent is an error, never a silent rounding.
type Int int64

// UnmarshalJSON implements json.Unmarshaler.
func (n *Int) UnmarshalJSON(b []byte) error {
	v, err := intValue(trimSpace(b))
	*n = Int(v)
	return err
}

// Str is a text field that may arrive as a string, a number, a boolean or
// null (""). Surrounding space inside a string is removed.
type Str string

// UnmarshalJSON implements json.Unmarshaler.
func (s *Str) UnmarshalJSON(b []byte) error {
	t, err := scalarText(trimSpace(b))
	if err != nil {
		return fmt.Errorf("text: %w", err)
	}
	*s = Str(t)
	return nil
}

// Bool is a flag that may arrive as true/false, "true"/"false", 0/1 or null.
type Bool bool

// UnmarshalJSON implements json.Unmarshaler.
func (v *Bool) UnmarshalJSON(b []byte) error {
	t, err := boolValue(trimSpace(b))
	*v = Bool(t)
	return err
}

// Millis is an instant as epoch milliseconds UTC, decoded from any of the
// four time forms Xportcn uses (see ParseTime). 0 means absent.
type Millis int64

// UnmarshalJSON implements json.Unmarshaler.
func (m *Millis) UnmarshalJSON(b []byte) error {
	v, err := timeValue(trimSpace(b))
	*m = Millis(v)
	return err
}

// scalarText returns the text of a raw JSON scalar v (no surrounding space):
// a string's content (trimmed), a number's literal (integers only),
// true/false, or "" for null.
func scalarText(v []byte) (string, error) {
	if len(v) == 0 {
		return "", nil
	}
	switch c := v[0]; {
	case c == '"':
		s, err := stringContent(v)
		if err != nil {
			return "", err
		}
		return string(s), nil
	case c == 'n' && string(v) == "null":
		return "", nil
	case string(v) == "true" || string(v) == "false":
		return string(v), nil
	case c == '-' || (c >= '0' && c <= '9'):
		if !isInteger(v) {
			return "", fmt.Errorf("%.40s is not an integer", v)
		}
		return string(v), nil
	}
	return "", fmt.Errorf("unexpected JSON %.40s", v)
}

// stringContent returns the content of the raw JSON string v, trimmed of
// space, escapes decoded. It validates v.
func stringContent(v []byte) ([]byte, error) {
	end, esc, err := stringEnd(v, 0)
	if err != nil {
		return nil, err
	}
	if end != len(v) {
		return nil, fmt.Errorf("%w: data after a string", errSyntax)
	}
	inner := v[1 : len(v)-1]
	if esc {
		inner = unescapeBytes(inner)
	}
	return trimText(inner), nil
}

// trimText is bytes.TrimSpace, with a fast answer for the common case of
// text that neither starts nor ends with a space (ASCII or not).
func trimText(b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	if first, last := b[0], b[len(b)-1]; first > ' ' && first < utf8.RuneSelf && last > ' ' && last < utf8.RuneSelf {
		return b
	}
	r, _ := utf8.DecodeRune(b)
	l, _ := utf8.DecodeLastRune(b)
	if !unicode.IsSpace(r) && !unicode.IsSpace(l) {
		return b
	}
	return bytes.TrimSpace(b)
}

// isInteger reports whether v is an optionally signed run of digits.
func isInteger(v []byte) bool {
	if len(v) > 0 && (v[0] == '-' || v[0] == '+') {
		v = v[1:]
	}
	return allDigits(string(v))
}

// intValue decodes an integer from a raw JSON number or string; null and ""
// are 0. Fractions, exponents and overflow are errors.
func intValue(v []byte) (int64, error) {
	if len(v) > 0 && v[0] == '"' {
		s, err := stringContent(v)
		if err != nil {
			return 0, fmt.Errorf("integer: %w", err)
		}
		v = s
	} else if string(v) == "null" {
		return 0, nil
	}
	if len(v) == 0 {
		return 0, nil
	}
	if n, ok := parseDigits(v); ok {
		return n, nil
	}
	if !isInteger(v) {
		return 0, fmt.Errorf("integer: %.40q is not an integer", v)
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("integer %.40q: %w", v, err)
	}
	return n, nil
}

// parseDigits is the allocation-free fast path of intValue: up to 18 digits,
// optionally negative.
func parseDigits(v []byte) (int64, bool) {
	neg := false
	if len(v) > 0 && v[0] == '-' {
		neg, v = true, v[1:]
	}
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// idValue decodes an identifier from a raw JSON string or integer, exactly.
func idValue(v []byte) (string, error) {
	s, err := scalarText(v)
	if err != nil {
		return "", fmt.Errorf("id: %w", err)
	}
	return s, nil
}

// textValue decodes a text field from any raw JSON scalar.
func textValue(v []byte) (string, error) {
	s, err := scalarText(v)
	if err != nil {
		return "", fmt.Errorf("text: %w", err)
	}
	return s, nil
}

// boolValue decodes true/false, "true"/"false", 0/1 (number or string) or
// null (false).
func boolValue(v []byte) (bool, error) {
	// The common spellings, answered without scalarText's string.
	switch string(v) {
	case "true", "1", `"true"`, `"1"`:
		return true, nil
	case "false", "0", "null", `"false"`, `"0"`, `""`:
		return false, nil
	}
	t, err := scalarText(v)
	if err != nil {
		return false, fmt.Errorf("flag: %w", err)
	}
	switch t {
	case "true", "1":
		return true, nil
	case "false", "0", "":
		return false, nil
	}
	return false, fmt.Errorf("flag: %q is not a boolean", t)
}

// timeValue decodes an instant in any of ParseTime's forms, from a raw JSON
// number or string; null is 0.
func timeValue(v []byte) (int64, error) {
	if len(v) > 0 && len(v) <= 16 && v[0] >= '0' && v[0] <= '9' {
		if n, ok := parseDigits(v); ok {
			return epochMillis(n), nil
		}
	}
	if len(v) > 2 && v[0] == '"' {
		if ms, ok := parseTimeFast(v[1 : len(v)-1]); ok {
			return ms, nil
		}
	}
	s, err := scalarText(v)
	if err != nil {
		return 0, fmt.Errorf("time: %w", err)
	}
	return ParseTime(s)
}
