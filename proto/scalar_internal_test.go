package proto

import (
	"strings"
	"testing"
)

// TestBoolValueFastPathAgreesWithScalarText: the spellings boolValue
// answers without scalarText get the answer scalarText's path gives them.
func TestBoolValueFastPathAgreesWithScalarText(t *testing.T) {
	slow := func(v []byte) (bool, bool) {
		s, err := scalarText(v)
		if err != nil {
			return false, false
		}
		switch s {
		case "true", "1":
			return true, true
		case "false", "0", "":
			return false, true
		}
		return false, false
	}
	for _, in := range []string{
		"true", "false", "1", "0", "null", `"true"`, `"false"`, `"1"`, `"0"`, `""`,
		`" true "`, `"TRUE"`, "2", `"yes"`, "tru", `"\u0031"`, "[]", "{}", "-0", "",
	} {
		got, err := boolValue([]byte(in))
		want, ok := slow([]byte(in))
		if (err == nil) != ok || got != want {
			t.Errorf("boolValue(%s) = %v, %v; scalarText's path: %v, ok %v", in, got, err, want, ok)
		}
	}
}

// TestAmountsBeyondMaxFenDoNotDecode: an amount of money beyond maxFen (in
// fen, or in yuan) is an error, so that the ledger's sums of amounts cannot
// overflow int64; at the bound it decodes.
func TestAmountsBeyondMaxFenDoNotDecode(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"1125899906842624", true}, {"-1125899906842624", true}, {`"1125899906842624"`, true},
		{"1125899906842625", false}, {"-1125899906842625", false}, {"9223372036854775807", false},
	} {
		if _, err := fenValue([]byte(c.in)); (err == nil) != c.ok {
			t.Errorf("fenValue(%s): %v, want ok %v", c.in, err, c.ok)
		}
	}
	if _, err := yuanValue([]byte("11258999068426.24")); err != nil {
		t.Errorf("yuan at the bound: %v", err)
	}
	if _, err := yuanValue([]byte("112589990684263")); err == nil {
		t.Error("yuan beyond the bound decoded")
	}
	body := []byte(`{"refundId":"TQ1","orderId":5,"status":"refundsuccess","refundPayment":9223372036854775807}`)
	if _, err := DecodeRefund(body); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("a refund of 2^63-1 fen: %v, want out of range", err)
	}
}
