package proto

import (
	"fmt"
	"strconv"
	"time"
)

// ChinaTime is UTC+8, the zone of Xportcn's zone-less times.
var ChinaTime = time.FixedZone("CST", 8*3600)

// secondsBelow: a bare epoch number under this is taken as seconds, not
// milliseconds (1e11 ms is 1973; 1e11 s is the year 5138).
const secondsBelow = 100_000_000_000

// ParseTime turns any of Xportcn's time forms into epoch milliseconds UTC:
//
//	1704853762000               epoch ms (a number or a string)
//	1704853762                  epoch seconds (10 digits, as some clients send)
//	20180423171116000+0800      1688 API form yyyyMMddHHmmssSSS+zone
//	2026-05-20 15:40:00         China time (UTC+8), no zone
//	2026-05-20T15:40:00+08:00   RFC 3339
//
// "" yields 0 (absent). Anything else is an error naming the value. It never
// panics and runs in time linear in len(s).
func ParseTime(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if allDigits(s) && len(s) <= 16 {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("time %q: %w", s, err)
		}
		return epochMillis(n), nil
	}
	if len(s) == 22 && allDigits(s[:17]) && (s[17] == '+' || s[17] == '-') && allDigits(s[18:]) {
		t, err := time.Parse("20060102150405.000-0700", s[:14]+"."+s[14:17]+s[17:])
		if err != nil {
			return 0, fmt.Errorf("time %q: %w", s, err)
		}
		return t.UnixMilli(), nil
	}
	if len(s) <= 64 {
		if len(s) >= 19 && s[10] == ' ' {
			for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04:05.000"} {
				if t, err := time.ParseInLocation(layout, s, ChinaTime); err == nil {
					return t.UnixMilli(), nil
				}
			}
		}
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UnixMilli(), nil
		}
	}
	return 0, fmt.Errorf("time %.64q: not epoch ms, yyyyMMddHHmmssSSS+zone, yyyy-MM-dd HH:mm:ss or RFC 3339", s)
}

// epochMillis takes a bare epoch number as seconds below secondsBelow, else
// as milliseconds.
func epochMillis(n int64) int64 {
	if n < secondsBelow {
		return n * 1000
	}
	return n
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseTimeFast reads the common, well-formed time forms without allocating:
// epoch digits, yyyyMMddHHmmssSSS+zone and yyyy-MM-dd HH:mm:ss. ok is false
// for anything else (and for anything out of range), which ParseTime then
// reads or rejects; for what it accepts it returns exactly what ParseTime
// returns.
func parseTimeFast(b []byte) (ms int64, ok bool) {
	switch {
	case len(b) > 0 && len(b) <= 16:
		n, ok := fixedDigits(b)
		if !ok {
			return 0, false
		}
		return epochMillis(n), true
	case len(b) == 22 && (b[17] == '+' || b[17] == '-'):
		y, ok1 := fixedDigits(b[0:4])
		mo, ok2 := fixedDigits(b[4:6])
		d, ok3 := fixedDigits(b[6:8])
		h, ok4 := fixedDigits(b[8:10])
		mi, ok5 := fixedDigits(b[10:12])
		sec, ok6 := fixedDigits(b[12:14])
		frac, ok7 := fixedDigits(b[14:17])
		zh, ok8 := fixedDigits(b[18:20])
		zm, ok9 := fixedDigits(b[20:22])
		if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && ok8 && ok9) || zh > 23 || zm > 59 {
			return 0, false
		}
		off := (zh*60 + zm) * 60
		if b[17] == '-' {
			off = -off
		}
		secs, ok := civilSeconds(y, mo, d, h, mi, sec)
		if !ok {
			return 0, false
		}
		return (secs-off)*1000 + frac, true
	case len(b) == 19 && b[4] == '-' && b[7] == '-' && b[10] == ' ' && b[13] == ':' && b[16] == ':':
		y, ok1 := fixedDigits(b[0:4])
		mo, ok2 := fixedDigits(b[5:7])
		d, ok3 := fixedDigits(b[8:10])
		h, ok4 := fixedDigits(b[11:13])
		mi, ok5 := fixedDigits(b[14:16])
		sec, ok6 := fixedDigits(b[17:19])
		if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
			return 0, false
		}
		secs, ok := civilSeconds(y, mo, d, h, mi, sec)
		if !ok {
			return 0, false
		}
		return (secs - 8*3600) * 1000, true // ChinaTime
	}
	return 0, false
}

// fixedDigits parses b, which must be all ASCII digits (at most 18).
func fixedDigits(b []byte) (int64, bool) {
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, len(b) > 0 && len(b) <= 18
}

// civilSeconds returns the Unix seconds of a proleptic Gregorian date and
// time in UTC, or ok == false when a field is out of the range time.Parse
// accepts.
func civilSeconds(y, mo, d, h, mi, s int64) (int64, bool) {
	if mo < 1 || mo > 12 || d < 1 || d > daysIn(mo, y) || h > 23 || mi > 59 || s > 59 {
		return 0, false
	}
	// Days from civil (H. Hinnant), for years >= 0.
	if mo <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	m := mo + 9
	if mo > 2 {
		m = mo - 3
	}
	doy := (153*m+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	days := era*146097 + doe - 719468
	return days*86400 + h*3600 + mi*60 + s, true
}

func daysIn(mo, y int64) int64 {
	switch mo {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
