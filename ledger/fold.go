package ledger

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"refundledger/proto"
)

// folded is the result of folding a set of snapshots, before money.
type folded struct {
	auth       *Snapshot
	transition []Transition // one per distinct operation, chronological
	anomalies  []Anomaly    // operation_changed first, then per operation in time order
}

// foldRefund folds a non-empty set of distinct snapshots (REFUNDS.md section
// 3). The result depends only on the set: snaps may be in any order, and the
// function does not modify them.
//
// Deviation from the spec, on purpose: where the spec says "first" or "later
// arrival", the fold uses an order computed from the set (authority, then
// digest), so that the state depends on the set of callbacks only
// (DESIGN.md invariant 3).
func foldRefund(snaps []Snapshot) folded {
	var orderedBuf [8]*Snapshot // most refunds have a few snapshots: no allocation
	ordered := orderedBuf[:0]
	if len(snaps) > len(orderedBuf) {
		ordered = make([]*Snapshot, 0, len(snaps))
	}
	for i := range snaps {
		ordered = append(ordered, &snaps[i])
	}
	slices.SortFunc(ordered, cmpAuthority)
	f := folded{auth: ordered[len(ordered)-1]}

	// 3.1 Union by id. "The first" version of an operation is the one in the
	// least authoritative snapshot listing it; a different version later is
	// recorded once per operation.
	var opsBuf [8]proto.Operation // scratch, as ordered
	ops := opsBuf[:0]
	if n := len(f.auth.Refund.Operations); n > len(opsBuf) {
		ops = make([]proto.Operation, 0, n)
	}
	var changed []string
	for _, s := range ordered {
		for _, op := range s.Refund.Operations {
			k := indexOf(ops, op.ID)
			if k < 0 {
				ops = append(ops, op)
				continue
			}
			if ops[k] != op && !contains(changed, op.ID) {
				changed = append(changed, op.ID)
				f.anomalies = append(f.anomalies, Anomaly{
					Code:   AnomalyOperationChanged,
					Detail: fmt.Sprintf("operation %s came back with different content; the first version is kept", op.ID),
					Ref:    op.ID,
				})
			}
		}
	}

	// 3.2 Chronological: gmtCreate; on a tie, the relative order in the most
	// authoritative snapshot listing both (lists are newest first); else id.
	slices.SortStableFunc(ops, func(a, b proto.Operation) int {
		if a.At != b.At {
			return cmp.Compare(a.At, b.At)
		}
		for k := len(ordered) - 1; k >= 0; k-- {
			list := ordered[k].Refund.Operations
			ia, ib := indexOf(list, a.ID), indexOf(list, b.ID)
			if ia >= 0 && ib >= 0 {
				return cmp.Compare(ib, ia)
			}
		}
		switch {
		case lessNumeric(a.ID, b.ID):
			return -1
		case lessNumeric(b.ID, a.ID):
			return 1
		}
		return 0
	})

	// 3.4-3.6 Transitions and their anomalies.
	f.transition = make([]Transition, len(ops))
	state := ""
	for k := range ops {
		op := &ops[k]
		from := state
		if k == 0 {
			// REFUNDS.md 3.4 says "" for the first; its before status, when
			// it has one (history_incomplete), says where the refund was,
			// and lets the first transition be checked like the others.
			from = op.Before
			if op.Before != "" {
				f.anomalies = append(f.anomalies, Anomaly{
					Code:   AnomalyHistoryIncomplete,
					Detail: fmt.Sprintf("the oldest known operation %s starts from %s: the application was never seen", op.ID, op.Before),
					Ref:    op.ID,
				})
			}
		}
		to := f.auth.Refund.Status
		if k+1 < len(ops) {
			if to = ops[k+1].Before; to == "" {
				to = from // the next operation does not say: no change is known
			}
		}
		if IsTerminal(from) {
			f.anomalies = append(f.anomalies, Anomaly{
				Code:   AnomalyActivityAfterTerminal,
				Detail: fmt.Sprintf("operation %s (%s) happened after the refund was %s", op.ID, op.Remark, from),
				Ref:    op.ID,
			})
		}
		if !IsExpectedTransition(from, to) {
			f.anomalies = append(f.anomalies, Anomaly{
				Code:   AnomalyUnexpectedTransition,
				Detail: fmt.Sprintf("operation %s moved the refund %s -> %s", op.ID, orNone(from), orNone(to)),
				Ref:    op.ID,
			})
		}
		f.transition[k] = Transition{
			ID: op.ID, At: Time(op.At), Type: op.Type, Remark: op.Remark, Role: op.Role, From: from, To: to,
		}
		state = to
	}
	return f
}

// cmpAuthority orders snapshots by authority (REFUNDS.md 3.3): more
// operations, then terminal over non-terminal, then later gmtModified, then
// later push time, then digest. The spec's last tie-break is "later arrival";
// the digest replaces it so that the state depends on the set of callbacks
// only (invariant 3), never on the order they came in.
func cmpAuthority(a, b *Snapshot) int {
	if na, nb := len(a.Refund.Operations), len(b.Refund.Operations); na != nb {
		return cmp.Compare(na, nb)
	}
	if ta, tb := IsTerminal(a.Refund.Status), IsTerminal(b.Refund.Status); ta != tb {
		if tb {
			return -1
		}
		return 1
	}
	if a.Refund.ModifiedAt != b.Refund.ModifiedAt {
		return cmp.Compare(a.Refund.ModifiedAt, b.Refund.ModifiedAt)
	}
	if a.PushedAt != b.PushedAt {
		return cmp.Compare(a.PushedAt, b.PushedAt)
	}
	return strings.Compare(a.Digest, b.Digest)
}

func indexOf(ops []proto.Operation, id string) int {
	for i := range ops {
		if ops[i].ID == id {
			return i
		}
	}
	return -1
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// lessNumeric compares decimal id strings as numbers (shorter is smaller).
func lessNumeric(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func orNone(s string) string {
	if s == "" {
		return `""`
	}
	return s
}
