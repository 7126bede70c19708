package projections

import (
	"bytes"
	"encoding/binary"
	"net/url"

	"refundledger/ledger"
	"refundledger/proto"
)

// Secondary indexes of refunds. Each entry is a key with an empty value;
// the key ends in /<platform>/<refundId>, so a scan yields the refunds
// without reading them. Components are path-escaped, so none contains '/'.
//
//	ix/status/<status>/<platform>/<refundId>
//	ix/phase/<phase>/<platform>/<refundId>
//	ix/order/<orderId>/<platform>/<refundId>
//	ix/updated/<updatedAt ms, big-endian>/<platform>/<refundId>
const (
	ixStatus  = "ix/status/"
	ixPhase   = "ix/phase/"
	ixOrder   = "ix/order/"
	ixUpdated = "ix/updated/"
)

// refundIndexKeys returns the index entries of a refund's state.
func refundIndexKeys(st ledger.Refund) [][]byte {
	tail := "/" + esc(string(st.Platform)) + "/" + esc(st.RefundID)
	keys := [][]byte{
		[]byte(ixStatus + esc(st.Status) + tail),
		[]byte(ixPhase + esc(st.Phase) + tail),
		append(binary.BigEndian.AppendUint64([]byte(ixUpdated), uint64(st.UpdatedAt)), tail...),
	}
	if st.OrderID != "" {
		keys = append(keys, []byte(ixOrder+esc(st.OrderID)+tail))
	}
	return keys
}

// refundOfIndexKey reads the platform and refund id at the end of an index
// key (or of a refund/<platform>/<refundId> key).
func refundOfIndexKey(k []byte) (proto.Platform, string, bool) {
	j := bytes.LastIndexByte(k, '/')
	if j < 0 {
		return "", "", false
	}
	i := bytes.LastIndexByte(k[:j], '/')
	if i < 0 {
		return "", "", false
	}
	p, err1 := url.PathUnescape(string(k[i+1 : j]))
	id, err2 := url.PathUnescape(string(k[j+1:]))
	return proto.Platform(p), id, err1 == nil && err2 == nil
}

func esc(s string) string { return url.PathEscape(s) }
