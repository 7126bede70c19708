package simulate

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// obj appends JSON objects member by member, in the order written (Xportcn's
// order is not alphabetical, and tests want to see members in any order).
type obj struct {
	b     []byte
	first bool
}

func newObj(b []byte) *obj { return &obj{b: append(b, '{'), first: true} }

func (o *obj) key(k string) *obj {
	if !o.first {
		o.b = append(o.b, ',')
	}
	o.first = false
	o.b = appendString(o.b, k)
	o.b = append(o.b, ':')
	return o
}

func (o *obj) str(k, v string) *obj        { o.key(k); o.b = appendString(o.b, v); return o }
func (o *obj) int(k string, v int64) *obj  { o.key(k); o.b = strconv.AppendInt(o.b, v, 10); return o }
func (o *obj) raw(k string, v []byte) *obj { o.key(k); o.b = append(o.b, v...); return o }
func (o *obj) bool(k string, v bool) *obj  { o.key(k); o.b = strconv.AppendBool(o.b, v); return o }
func (o *obj) null(k string) *obj          { o.key(k); o.b = append(o.b, "null"...); return o }

// num writes a decimal id or amount as a JSON number (exact, whatever its
// size: the point of ids beyond 2^53).
func (o *obj) num(k, digits string) *obj { o.key(k); o.b = append(o.b, digits...); return o }

func (o *obj) end() []byte { return append(o.b, '}') }

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		case c < utf8.RuneSelf:
			b = append(b, c)
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+n]...)
			}
			i += n
			continue
		}
		i++
	}
	return append(b, '"')
}

// Time forms a message may use for its times (CALLBACKS.md).
const (
	timeEpochNumber = iota // 1704853762000
	timeEpochString        // "1704853762000"
	time1688               // "20180423171116000+0800"
	timeChina              // "2026-05-20 15:40:00" (UTC+8)
	timeForms
)

var chinaTime = time.FixedZone("CST", 8*3600)

// appendTime appends epoch ms t in the given form. The simulator's times are
// whole seconds, so every form is exact.
func (o *obj) time(k string, t int64, form int) *obj {
	o.key(k)
	switch form {
	case timeEpochNumber:
		o.b = strconv.AppendInt(o.b, t, 10)
	case timeEpochString:
		o.b = appendString(o.b, strconv.FormatInt(t, 10))
	case time1688:
		c := time.UnixMilli(t).In(chinaTime)
		o.b = appendString(o.b, c.Format("20060102150405")+"000"+c.Format("-0700"))
	default:
		o.b = appendString(o.b, time.UnixMilli(t).In(chinaTime).Format("2006-01-02 15:04:05"))
	}
	return o
}
