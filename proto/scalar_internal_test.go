package proto

import "testing"

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
