package proto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// ID is an identifier kept as its decimal string. It decodes from a JSON
// integer of any size or from a string, so ids beyond 2^53 stay exact. null
// and a missing field decode to "".
type ID string

// UnmarshalJSON implements json.Unmarshaler.
func (id *ID) UnmarshalJSON(b []byte) error {
	s, err := scalarText(b)
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
	s, err := scalarText(b)
	if err != nil {
		return fmt.Errorf("integer: %w", err)
	}
	if s == "" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("integer %q: %w", s, err)
	}
	*n = Int(v)
	return nil
}

// Str is a text field that may arrive as a string, a number or null.
type Str string

// UnmarshalJSON implements json.Unmarshaler.
func (s *Str) UnmarshalJSON(b []byte) error {
	t, err := scalarText(b)
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
	t, err := scalarText(b)
	if err != nil {
		return fmt.Errorf("flag: %w", err)
	}
	switch t {
	case "true", "1":
		*v = true
	case "false", "0", "":
		*v = false
	default:
		return fmt.Errorf("flag: %q is not a boolean", t)
	}
	return nil
}

// Millis is an instant as epoch milliseconds UTC, decoded from any of the
// four time forms Xportcn uses (see ParseTime). 0 means absent.
type Millis int64

// UnmarshalJSON implements json.Unmarshaler.
func (m *Millis) UnmarshalJSON(b []byte) error {
	t, err := scalarText(b)
	if err != nil {
		return fmt.Errorf("time: %w", err)
	}
	v, err := ParseTime(t)
	if err != nil {
		return err
	}
	*m = Millis(v)
	return nil
}

// scalarText returns the text of a JSON scalar: a string's content, a
// number's literal (integers only), true/false, or "" for null.
func scalarText(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "", nil
	}
	switch b[0] {
	case 'n':
		if string(b) == "null" {
			return "", nil
		}
	case 't', 'f':
		if string(b) == "true" || string(b) == "false" {
			return string(b), nil
		}
	case '"':
		if bytes.IndexByte(b[1:], '\\') < 0 && b[len(b)-1] == '"' && len(b) >= 2 {
			return string(bytes.TrimSpace(b[1 : len(b)-1])), nil
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", err
		}
		return string(bytes.TrimSpace([]byte(s))), nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if bytes.ContainsAny(b, ".eE") {
			return "", fmt.Errorf("%s is not an integer", b)
		}
		return string(b), nil
	}
	return "", fmt.Errorf("unexpected JSON %.40s", b)
}
