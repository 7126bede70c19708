package ledger_test

import (
	"reflect"
	"testing"

	"pgregory.net/rapid"

	"refundledger/ledger"
)

// TestFolderFoldsAsThePlainFunctions: one Folder, reused for every callback
// of a hostile delivery, gives the same facts after each callback and the
// same records at the end as ApplyRefund, ApplyOrder and LinkRefund. Its
// reused memory never shows in a record: a record sharing it would be
// overwritten by the calls after and differ at the end.
func TestFolderFoldsAsThePlainFunctions(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		_, _, bodies := drawDeliveries(t)
		plain := newBook()
		withFolder := newBook()
		withFolder.folder = &ledger.Folder{}
		for i, body := range bodies {
			want := plain.apply(t, body)
			got := withFolder.apply(t, body)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("callback %d: facts\n got %s\nwant %s", i, mustJSON(t, got), mustJSON(t, want))
			}
		}
		if !reflect.DeepEqual(withFolder.refunds, plain.refunds) || !reflect.DeepEqual(withFolder.orders, plain.orders) {
			t.Fatalf("records differ:\n got %s %s\nwant %s %s", mustJSON(t, withFolder.refunds), mustJSON(t, withFolder.orders),
				mustJSON(t, plain.refunds), mustJSON(t, plain.orders))
		}
		if !reflect.DeepEqual(withFolder.facts, plain.facts) {
			t.Fatal("the facts kept differ")
		}
	})
}
