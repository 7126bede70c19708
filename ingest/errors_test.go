package ingest

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"refundledger/proto"
)

// writeSuccess skips encoding/json for plain receipt ids; its answer must be
// byte for byte what encoding/json writes, headers included.
func TestWriteSuccessEqualsJSON(t *testing.T) {
	for _, id := range []string{"", "01JD6Y8Q3T0000000000000000", "a\"quote", "back\\slash", "<html>", "tab\t", "é"} {
		fast, slow := httptest.NewRecorder(), httptest.NewRecorder()
		writeSuccess(fast, id)
		proto.WriteJSON(slow, http.StatusOK, SuccessBody{Code: 200, Msg: "success", ReceiptID: id})
		if fast.Code != slow.Code || fast.Body.String() != slow.Body.String() {
			t.Errorf("receipt %q: got %d %q, encoding/json writes %d %q", id, fast.Code, fast.Body, slow.Code, slow.Body)
		}
		if !maps.EqualFunc(fast.Header(), slow.Header(), slices.Equal) {
			t.Errorf("receipt %q: headers %v, encoding/json path %v", id, fast.Header(), slow.Header())
		}
	}
}
