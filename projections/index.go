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

// refundIndexKeys returns the index entries of a refund's state. The keys
// share one allocation (a fold computes them for every refund it changes).
func refundIndexKeys(st ledger.Refund) [][]byte {
	platform, id := esc(string(st.Platform)), esc(st.RefundID)
	status, phase, order := esc(st.Status), esc(st.Phase), esc(st.OrderID)
	tail := 2 + len(platform) + len(id) // /<platform>/<refundId>
	size := len(ixStatus) + len(status) + len(ixPhase) + len(phase) + len(ixUpdated) + 8 + 3*tail
	n := 3
	if st.OrderID != "" {
		size += len(ixOrder) + len(order) + tail
		n++
	}
	buf := make([]byte, 0, size)
	keys := make([][]byte, 0, n)
	key := func(parts ...string) {
		start := len(buf)
		for _, p := range parts {
			buf = append(buf, p...)
		}
		buf = append(append(append(append(buf, '/'), platform...), '/'), id...)
		keys = append(keys, buf[start:len(buf):len(buf)])
	}
	key(ixStatus, status)
	key(ixPhase, phase)
	var at [8]byte
	binary.BigEndian.PutUint64(at[:], uint64(st.UpdatedAt))
	key(ixUpdated, string(at[:]))
	if st.OrderID != "" {
		key(ixOrder, order)
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
