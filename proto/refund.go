package proto

import (
	"encoding/json"
	"fmt"
	"strings"
)

// RefundSnapshot is a 1688 refund record (OpOrderRefundModel) as one callback
// carried it: the whole refund at send time. Only the fields the fold and the
// read side need are decoded; the rest stays in the raw bytes.
type RefundSnapshot struct {
	RefundID       string // "TQ" + numeric id
	ID             string // numeric refund id (decimal)
	OrderID        string
	Status         string
	ApplyPayment   int64 // fen
	ApplyCarriage  int64 // fen
	RefundPayment  int64 // fen
	RefundCarriage int64 // fen
	DisputeType    int64
	DisputeRequest int64
	GoodsStatus    int64
	OnlyRefund     bool
	RefundGoods    bool
	CreatedAt      int64 // gmtCreate, epoch ms
	ModifiedAt     int64 // gmtModified, epoch ms
	CompletedAt    int64 // gmtCompleted, epoch ms
	Operations     []Operation // as listed: newest first
}

// Operation is one entry of refundOperationList.
type Operation struct {
	ID          string // operation id (decimal); identity, not order
	At          int64  // gmtCreate, epoch ms (second precision)
	Type        int64  // operateTypeInt
	Remark      string // operateRemark
	Description string // discription (sic)
	Role        int64  // operatorRoleId
	Before      string // beforeOperateStatus
	After       string // afterOperateStatus
}

type wireRefund struct {
	RefundID       Str             `json:"refundId"`
	ID             ID              `json:"id"`
	OrderID        ID              `json:"orderId"`
	Status         Str             `json:"status"`
	ApplyPayment   Int             `json:"applyPayment"`
	ApplyCarriage  Int             `json:"applyCarriage"`
	RefundPayment  Int             `json:"refundPayment"`
	RefundCarriage Int             `json:"refundCarriage"`
	DisputeType    Int             `json:"disputeType"`
	DisputeRequest Int             `json:"disputeRequest"`
	GoodsStatus    Int             `json:"goodsStatus"`
	OnlyRefund     Bool            `json:"onlyRefund"`
	RefundGoods    Bool            `json:"refundGoods"`
	GmtCreate      Millis          `json:"gmtCreate"`
	GmtModified    Millis          `json:"gmtModified"`
	GmtCompleted   Millis          `json:"gmtCompleted"`
	Operations     []wireOperation `json:"refundOperationList"`
}

type wireOperation struct {
	ID          ID     `json:"id"`
	GmtCreate   Millis `json:"gmtCreate"`
	Type        Int    `json:"operateTypeInt"`
	Remark      Str    `json:"operateRemark"`
	Description Str    `json:"discription"`
	Role        Int    `json:"operatorRoleId"`
	Before      Str    `json:"beforeOperateStatus"`
	After       Str    `json:"afterOperateStatus"`
}

// DecodeRefund decodes a 1688 refund body. It fails when the body is not a
// JSON object, when a decoded field has an unusable value, or when the refund
// cannot be identified (no refundId and no id) or an operation has no id.
func DecodeRefund(body []byte) (RefundSnapshot, error) {
	var w wireRefund
	if err := json.Unmarshal(body, &w); err != nil {
		return RefundSnapshot{}, fmt.Errorf("refund body: %w", err)
	}
	s := RefundSnapshot{
		RefundID:       string(w.RefundID),
		ID:             string(w.ID),
		OrderID:        string(w.OrderID),
		Status:         strings.ToLower(string(w.Status)),
		ApplyPayment:   int64(w.ApplyPayment),
		ApplyCarriage:  int64(w.ApplyCarriage),
		RefundPayment:  int64(w.RefundPayment),
		RefundCarriage: int64(w.RefundCarriage),
		DisputeType:    int64(w.DisputeType),
		DisputeRequest: int64(w.DisputeRequest),
		GoodsStatus:    int64(w.GoodsStatus),
		OnlyRefund:     bool(w.OnlyRefund),
		RefundGoods:    bool(w.RefundGoods),
		CreatedAt:      int64(w.GmtCreate),
		ModifiedAt:     int64(w.GmtModified),
		CompletedAt:    int64(w.GmtCompleted),
	}
	if s.RefundID == "" && s.ID != "" {
		s.RefundID = "TQ" + s.ID
	}
	if s.RefundID == "" {
		return RefundSnapshot{}, fmt.Errorf("refund body: neither refundId nor id is present")
	}
	s.Operations = make([]Operation, len(w.Operations))
	for i, o := range w.Operations {
		if o.ID == "" {
			return RefundSnapshot{}, fmt.Errorf("refund %s: operation %d has no id", s.RefundID, i)
		}
		s.Operations[i] = Operation{
			ID:          string(o.ID),
			At:          int64(o.GmtCreate),
			Type:        int64(o.Type),
			Remark:      string(o.Remark),
			Description: string(o.Description),
			Role:        int64(o.Role),
			Before:      strings.ToLower(string(o.Before)),
			After:       strings.ToLower(string(o.After)),
		}
	}
	return s, nil
}
