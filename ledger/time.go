package ledger

import (
	"strconv"
	"time"
)

// Time is an instant in epoch milliseconds UTC. It marshals to JSON as an
// RFC 3339 UTC string (null when zero) and unmarshals from either form.
type Time int64

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	if t == 0 {
		return []byte("null"), nil
	}
	return []byte(strconv.Quote(t.String())), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*t = 0
		return nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*t = Time(n)
		return nil
	}
	u, err := strconv.Unquote(s)
	if err != nil {
		return err
	}
	v, err := time.Parse(time.RFC3339Nano, u)
	if err != nil {
		return err
	}
	*t = Time(v.UnixMilli())
	return nil
}

// String formats the instant as RFC 3339 UTC (milliseconds only when present).
func (t Time) String() string {
	return time.UnixMilli(int64(t)).UTC().Format(time.RFC3339Nano)
}
