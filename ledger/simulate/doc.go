// Package simulate produces the callbacks Xportcn would send for a number of
// 1688 orders and their refunds, and the ground truth they should fold to.
//
// Every refund step is a full snapshot, as 1688 sends it: the whole record at
// send time, refundOperationList newest first, each operation's
// beforeOperateStatus == afterOperateStatus == the state before it (the apply
// operation has neither). Lifecycles cover refund only, return and refund,
// reject -> modify -> agree, buyer cancel, timeouts (system role 4), staff
// intervention (role 3), partial and several refunds per order, and price
// corrections before payment.
//
// Delivery is then made hostile: pushes fail and come back as retries
// (retryCount 1..5, 30 minutes apart), some arrive twice, order is shuffled,
// messageBody is sometimes a JSON string, times take all four forms, type
// names are sometimes prefixed, ids exceed 2^53. Every message is delivered
// at least once.
//
// Everything is a pure function of Options: the same options give the same
// bytes, in the same order, on every machine (math/rand/v2 PCG streams
// derived from Seed). Generation is streaming (Each) so N can be large.
package simulate
