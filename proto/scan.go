package proto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is a small validating JSON scanner. Decoders walk an object's
// members with objectIter and slice out the raw bytes of the values they need;
// everything else is validated and skipped without being materialised. It is
// several times faster than encoding/json into a map, allocates only for the
// strings it returns, and keeps integers as their literal text (so ids beyond
// 2^53 stay exact).

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 512

// errSyntax is wrapped by every error the scanner returns.
var errSyntax = errors.New("invalid JSON")

func syntaxErr(b []byte, i int, what string) error {
	return fmt.Errorf("%w: %s at offset %d", errSyntax, what, i)
}

// notJSON wraps a scanner error in ErrNotJSON without saying twice that the
// bytes are not JSON ("not JSON: expected ':' at offset 300").
func notJSON(err error) error {
	return fmt.Errorf("%w: %s", ErrNotJSON, strings.TrimPrefix(err.Error(), errSyntax.Error()+": "))
}

// isSpace reports JSON whitespace.
func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

// skipSpace returns the index of the first non-space byte at or after i.
// The common case, no space at all, is inlined at the call site.
func skipSpace(b []byte, i int) int {
	if i < len(b) && b[i] > ' ' {
		return i
	}
	return skipSpaceSlow(b, i)
}

// skipSpaceSlow is skipSpace past its first byte: runs of indentation are
// skipped eight bytes at a time.
func skipSpaceSlow(b []byte, i int) int {
	for i < len(b) {
		if c := b[i]; c > ' ' || !isSpace(c) {
			return i
		}
		i++
		if i < len(b) && b[i] > ' ' {
			return i
		}
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:]) ^ (' ' * lsb)
			if x != 0 {
				i += bits.TrailingZeros64(x) / 8
				break
			}
			i += 8
		}
	}
	return i
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// attention returns a mask whose lowest set bit is the high bit of the first
// of the eight bytes in x (little endian) that is a control character, '"'
// or '\\' (SWAR; bits above the lowest may be spurious), 0 when there is none.
func attention(x uint64) uint64 {
	ctl := (x - 0x20*lsb) & ^x
	q := x ^ ('"' * lsb)
	bs := x ^ ('\\' * lsb)
	return (ctl | ((q - lsb) & ^q) | ((bs - lsb) & ^bs)) & msb
}

// trimSpace removes JSON whitespace around b.
func trimSpace(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && isSpace(b[i]) {
		i++
	}
	for j > i && isSpace(b[j-1]) {
		j--
	}
	return b[i:j]
}

// stringSafe[c] is true for bytes that may appear unescaped inside a JSON
// string and need no attention: not '"', not '\\', not a control character.
var stringSafe = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// stringEnd returns the index just past the string starting at b[i] == '"'
// and whether it contains escapes.
func stringEnd(b []byte, i int) (end int, escaped bool, err error) {
	j := i + 1
	for {
		for j+8 <= len(b) {
			if m := attention(binary.LittleEndian.Uint64(b[j:])); m != 0 {
				j += bits.TrailingZeros64(m) / 8
				goto found
			}
			j += 8
		}
		for j < len(b) && stringSafe[b[j]] {
			j++
		}
	found:
		if j >= len(b) {
			return 0, false, syntaxErr(b, i, "unterminated string")
		}
		switch c := b[j]; {
		case c == '"':
			return j + 1, escaped, nil
		case c == '\\':
			escaped = true
			if j+1 >= len(b) {
				return 0, false, syntaxErr(b, j, "unterminated escape")
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+6 > len(b) || !isHex4(b[j+2:j+6]) {
					return 0, false, syntaxErr(b, j, `bad \u escape`)
				}
				j += 6
			default:
				return 0, false, syntaxErr(b, j, "bad escape")
			}
		default:
			return 0, false, syntaxErr(b, j, "control character in string")
		}
	}
}

func isHex4(h []byte) bool {
	for _, c := range h {
		if hexVal(c) < 0 {
			return false
		}
	}
	return true
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// numberEnd returns the index just past the JSON number starting at b[i].
func numberEnd(b []byte, i int) (int, error) {
	j := i
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && b[j] >= '1' && b[j] <= '9':
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
	default:
		return 0, syntaxErr(b, i, "bad number")
	}
	if j < len(b) && b[j] == '.' {
		j++
		k := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j == k {
			return 0, syntaxErr(b, i, "bad fraction")
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		k := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j == k {
			return 0, syntaxErr(b, i, "bad exponent")
		}
	}
	return j, nil
}

// valueEnd validates the JSON value starting at b[i] (no leading space) and
// returns the index just past it.
func valueEnd(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, syntaxErr(b, i, "unexpected end")
	}
	switch c := b[i]; c {
	case '"':
		end, _, err := stringEnd(b, i)
		return end, err
	case '{', '[':
		if depth >= maxDepth {
			return 0, syntaxErr(b, i, "nesting too deep")
		}
		return containerEnd(b, i, depth+1)
	case 't':
		return literalEnd(b, i, "true")
	case 'f':
		return literalEnd(b, i, "false")
	case 'n':
		return literalEnd(b, i, "null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return numberEnd(b, i)
		}
	}
	return 0, syntaxErr(b, i, fmt.Sprintf("unexpected %q", b[i]))
}

func literalEnd(b []byte, i int, lit string) (int, error) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), nil
	}
	return 0, syntaxErr(b, i, "bad literal")
}

// containerEnd validates the object or array at b[i] and returns the index
// just past its closing bracket.
func containerEnd(b []byte, i, depth int) (int, error) {
	obj := b[i] == '{'
	closer := byte(']')
	if obj {
		closer = '}'
	}
	j := skipSpace(b, i+1)
	if j < len(b) && b[j] == closer {
		return j + 1, nil
	}
	for {
		var err error
		if obj {
			if j >= len(b) || b[j] != '"' {
				return 0, syntaxErr(b, j, "expected a member name")
			}
			if j, _, err = stringEnd(b, j); err != nil {
				return 0, err
			}
			j = skipSpace(b, j)
			if j >= len(b) || b[j] != ':' {
				return 0, syntaxErr(b, j, "expected ':'")
			}
			j = skipSpace(b, j+1)
		}
		if j, err = valueEnd(b, j, depth); err != nil {
			return 0, err
		}
		j = skipSpace(b, j)
		if j >= len(b) {
			return 0, syntaxErr(b, j, "unterminated container")
		}
		switch b[j] {
		case ',':
			j = skipSpace(b, j+1)
		case closer:
			return j + 1, nil
		default:
			return 0, syntaxErr(b, j, "expected ',' or a closing bracket")
		}
	}
}

// objectIter walks the members of one JSON object, validating as it goes.
// Values are returned raw (no surrounding space). After the closing brace,
// end is the index just past it.
type objectIter struct {
	b     []byte
	i     int
	depth int
	top   bool // the object must be all of b (else trailing data is an error)
	done  bool
	end   int
	err   error
}

// newObjectIter starts walking b, which must hold exactly one JSON object
// (surrounding space allowed). ok is false when b is not an object.
func newObjectIter(b []byte, depth int) (it objectIter, ok bool) {
	b = trimSpace(b)
	if len(b) < 2 || b[0] != '{' {
		return objectIter{}, false
	}
	it = openObject(b, 0, depth)
	it.top = true
	if it.done && it.end != len(b) {
		it.err = syntaxErr(b, it.end, "data after the object")
	}
	return it, true
}

// openObject starts walking the object at b[i] == '{'; the object may be
// followed by anything (see objectIter.end).
func openObject(b []byte, i, depth int) objectIter {
	it := objectIter{b: b, i: skipSpace(b, i+1), depth: depth + 1}
	if depth >= maxDepth {
		it.err = syntaxErr(b, i, "nesting too deep")
	} else if it.i < len(b) && b[it.i] == '}' {
		it.done, it.end = true, it.i+1
	}
	return it
}

// next returns the next member, its value validated. It returns ok == false
// at the end or on error (see it.err).
func (it *objectIter) next() (key, val []byte, ok bool) {
	if key, ok = it.nextKey(); !ok {
		return nil, nil, false
	}
	end, err := valueEnd(it.b, it.i, it.depth)
	if err != nil {
		it.err = err
		return nil, nil, false
	}
	val = it.b[it.i:end]
	if !it.skipTo(end) {
		return nil, nil, false
	}
	return key, val, true
}

// nextKey reads the next member's name and colon and leaves it.i at the
// value's first byte; the caller then calls skipTo with the value's end.
// key is the raw name (escapes decoded only when present).
func (it *objectIter) nextKey() (key []byte, ok bool) {
	if it.done || it.err != nil {
		return nil, false
	}
	b, j := it.b, it.i
	if j >= len(b) || b[j] != '"' {
		it.err = syntaxErr(b, j, "expected a member name")
		return nil, false
	}
	end, esc, err := stringEnd(b, j)
	if err != nil {
		it.err = err
		return nil, false
	}
	key = b[j+1 : end-1]
	if esc {
		key = []byte(unescape(key))
	}
	j = skipSpace(b, end)
	if j >= len(b) || b[j] != ':' {
		it.err = syntaxErr(b, j, "expected ':'")
		return nil, false
	}
	it.i = skipSpace(b, j+1)
	return key, true
}

// skipTo consumes the current value, which ends at end, and the separator
// after it.
func (it *objectIter) skipTo(end int) bool {
	b := it.b
	j := skipSpace(b, end)
	switch {
	case j < len(b) && b[j] == ',':
		it.i = skipSpace(b, j+1)
	case j < len(b) && b[j] == '}':
		it.done, it.end = true, j+1
		if it.top && j+1 != len(b) {
			it.err = syntaxErr(b, j+1, "data after the object")
			return false
		}
	default:
		it.err = syntaxErr(b, j, "expected ',' or '}'")
		return false
	}
	return true
}

// validJSON reports whether b is exactly one JSON value (space allowed).
func validJSON(b []byte) bool {
	i := skipSpace(b, 0)
	end, err := valueEnd(b, i, 0)
	return err == nil && skipSpace(b, end) == len(b)
}

// unescape decodes the inside of a JSON string that is known to be valid
// (stringEnd accepted it). Invalid surrogates become U+FFFD, as in
// encoding/json.
func unescape(s []byte) string { return string(unescapeBytes(s)) }

// unescapeBytes is unescape into a new byte slice. The runs between escapes
// are copied whole.
func unescapeBytes(s []byte) []byte {
	out := make([]byte, 0, len(s))
	for {
		k := bytes.IndexByte(s, '\\')
		if k < 0 {
			return append(out, s...)
		}
		out = append(out, s[:k]...)
		s = s[k:]
		switch s[1] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := rune(hex4(s[2:]))
			s = s[6:]
			if utf16.IsSurrogate(r) {
				if len(s) >= 6 && s[0] == '\\' && s[1] == 'u' {
					if r2 := utf16.DecodeRune(r, rune(hex4(s[2:]))); r2 != utf8.RuneError {
						r = r2
						s = s[6:]
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
			continue
		default: // '"', '\\', '/'
			out = append(out, s[1])
		}
		s = s[2:]
	}
}

func hex4(h []byte) int {
	return hexVal(h[0])<<12 | hexVal(h[1])<<8 | hexVal(h[2])<<4 | hexVal(h[3])
}
