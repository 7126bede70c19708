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
