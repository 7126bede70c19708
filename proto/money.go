package proto

import "fmt"

// maxFen bounds every parsed amount of money, in fen: 2^50 fen is about 11
// trillion yuan, beyond any purchase, and small enough that the ledger can
// add 8,192 such amounts (an order's refunds, a refund's postings, goods plus
// carriage) without overflowing int64. A body with an amount beyond it does
// not decode, and is quarantined with the reason.
const maxFen = 1 << 50

// fenValue decodes an amount in fen (an integer, as intValue reads it) and
// checks it against maxFen.
func fenValue(v []byte) (int64, error) {
	n, err := intValue(v)
	if err != nil {
		return 0, err
	}
	if n > maxFen || n < -maxFen {
		return 0, fmt.Errorf("amount %d fen is out of range (more than %d in magnitude)", n, int64(maxFen))
	}
	return n, nil
}

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
