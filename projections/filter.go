package projections

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"refundledger/ledger"
	"refundledger/proto"
)

var phases = map[string]bool{
	ledger.PhasePendingSeller: true, ledger.PhasePendingBuyer: true, ledger.PhasePendingReturn: true,
	ledger.PhasePendingReceipt: true, ledger.PhaseSucceeded: true, ledger.PhaseClosed: true, ledger.PhaseUnknown: true,
}

// parseRefundFilter reads the query of GET /v1/refunds. Unknown parameters,
// repeated ones and bad values are errors that name the parameter.
func parseRefundFilter(q url.Values) (RefundFilter, error) {
	known := map[string]bool{"platform": true, "status": true, "phase": true, "order": true, "updatedSince": true, "limit": true, "cursor": true}
	var unknown []string
	for k, v := range q {
		if !known[k] {
			unknown = append(unknown, k)
		} else if len(v) > 1 {
			return RefundFilter{}, fmt.Errorf("%s: given %d times", k, len(v))
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return RefundFilter{}, fmt.Errorf("unknown parameter %s (known: platform, status, phase, order, updatedSince, limit, cursor)", strings.Join(unknown, ", "))
	}
	f := RefundFilter{Status: q.Get("status"), Phase: q.Get("phase"), OrderID: q.Get("order"), Cursor: q.Get("cursor")}
	if v := q.Get("platform"); v != "" {
		p, ok := proto.ParsePlatform(v)
		if !ok {
			return f, fmt.Errorf("platform: %q is not 1688 or taobao", v)
		}
		f.Platform = p
	}
	if f.Phase != "" && !phases[f.Phase] {
		return f, fmt.Errorf("phase: %q is not one of pending_seller, pending_buyer, pending_return, pending_receipt, succeeded, closed, unknown", f.Phase)
	}
	if v := q.Get("updatedSince"); v != "" {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			f.UpdatedSince = t.UnixMilli()
		} else if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			f.UpdatedSince = n
		} else {
			return f, fmt.Errorf("updatedSince: %q is neither RFC 3339 nor epoch milliseconds", v)
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxListLimit {
			return f, fmt.Errorf("limit: %q is not a number from 1 to %d", v, MaxListLimit)
		}
		f.Limit = n
	}
	return f, nil
}
