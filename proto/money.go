package proto

import "fmt"

// maxFen bounds parsed amounts (about 9.2e16 yuan) so the arithmetic below
// cannot overflow int64.
const maxFen = 1 << 62

// yuanValue converts a yuan decimal (1688's order API: totalAmount,
// shippingFee; Taobao: refund_fee) from a raw JSON number or string to int64
// fen, exactly, without floating point: "117.5" and 117.50 are 11750 fen.
// null and "" are 0. More than two decimals are accepted only when the extra
// digits are zeros; anything that would need rounding is an error.
func yuanValue(v []byte) (int64, error) {
	if len(v) > 0 && v[0] == '"' {
		s, err := stringContent(v)
		if err != nil {
			return 0, fmt.Errorf("yuan amount: %w", err)
		}
		v = s
	} else if string(v) == "null" {
		return 0, nil
	}
	if len(v) == 0 {
		return 0, nil
	}
	orig := v
	neg := false
	if v[0] == '-' || v[0] == '+' {
		neg, v = v[0] == '-', v[1:]
	}
	var fen int64
	i, digits := 0, 0
	for ; i < len(v) && v[i] >= '0' && v[i] <= '9'; i++ {
		fen = fen*10 + int64(v[i]-'0')
		if digits++; fen > maxFen/100 {
			return 0, fmt.Errorf("yuan amount %.40q is out of range", orig)
		}
	}
	fen *= 100
	if i < len(v) && v[i] == '.' {
		i++
		for k := 0; i < len(v) && v[i] >= '0' && v[i] <= '9'; i, k = i+1, k+1 {
			d := int64(v[i] - '0')
			switch k {
			case 0:
				fen += 10 * d
			case 1:
				fen += d
			default:
				if d != 0 {
					return 0, fmt.Errorf("yuan amount %.40q has fractions of a fen", orig)
				}
			}
			digits++
		}
	}
	if i != len(v) || digits == 0 {
		return 0, fmt.Errorf("yuan amount %.40q is not a decimal number", orig)
	}
	if neg {
		fen = -fen
	}
	return fen, nil
}
