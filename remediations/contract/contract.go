// Package contract holds the names bucketguard writes that something else
// reads: the status of an evaluation (in the alert JSON, the SNS attributes,
// the sweep tally and the logs), where an alert was delivered, and the log
// messages and fields the stack's metric filters match. The code writes them
// and the stack builds its filter patterns from them, so a renamed field
// cannot silently stop a metric. A leaf package: the CDK app links it.
package contract

import (
	"fmt"
	"strings"
)

// Status is what one evaluation of a target came to.
type Status string

// The statuses.
const (
	Clean      Status = "clean"       // nothing found
	Remediated Status = "remediated"  // every attempted fix landed and read back as intended
	Partial    Status = "partial"     // some fixes did not land or did not read back as intended
	Failed     Status = "failed"      // no fix landed
	Notified   Status = "notified"    // notify mode: found and reported, nothing written
	Reported   Status = "reported"    // found, with nothing to write (notices, controls off)
	BucketGone Status = "bucket-gone" // the bucket no longer exists
)

// Statuses lists every status, for dashboards and docs.
func Statuses() []Status {
	return []Status{Clean, Remediated, Partial, Failed, Notified, Reported, BucketGone}
}

// Delivery says where an alert went.
type Delivery string

// The deliveries.
const (
	Published   Delivery = "published"      // SNS took it
	Duplicate   Delivery = "duplicate"      // the ledger shows it already sent
	Spilled     Delivery = "fallback-queue" // SNS refused; the fallback queue has it
	Undelivered Delivery = "undelivered"    // neither took it: it is in the log line
	Rendered    Delivery = "rendered"       // no sender (a dry run): shown, not sent
)

// Log messages: one line per decision.
const (
	MsgSkip   = "skip"   // an event that needs nothing
	MsgPlan   = "plan"   // what the planner decided
	MsgAction = "action" // one write
	MsgVerify = "verify" // one action read back
	MsgAlert  = "alert"  // one alert delivered (or not): exactly one line per alert
	MsgRetry  = "retry"  // the invocation asks to be retried
	// MsgUnjournaled: the journal could not be kept before a write; the
	// fix went ahead, and until its alert is told a death of the attempt
	// would lose the story.
	MsgUnjournaled = "unjournaled"
	// MsgNoSecondOpinion: AWS's own check of a policy about to be written
	// could not be had; it was written on bucketguard's judgement alone.
	MsgNoSecondOpinion = "no-second-opinion"
	// MsgFight: the same setting of a bucket fixed again and again within
	// a window; told once per window to the operations topic.
	MsgFight = "fight"
	// MsgCanary: the canary's change arrived; FieldDelayMS says how long
	// after CloudTrail's eventTime.
	MsgCanary = "canary"
	// MsgCoverage: the admin stack's scheduled coverage check; its
	// FieldUncovered counts the account-regions not covered.
	MsgCoverage = "coverage"
	// MsgReportFailed: a report made beside the alert (Security Hub's
	// findings, the chat notification, the outcome on the organization's
	// central bus) was refused or reached nowhere. The
	// alert itself is unaffected; FieldTo says which report.
	MsgReportFailed = "report-failed"
)

// Reports made beside the alert (FieldTo).
const (
	ToSecurityHub = "securityhub"
	ToChat        = "chat"
	ToCentral     = "central" // the organization's central bus (outcome events)
)

// Log fields.
const (
	FieldMsg       = "msg" // slog's message key
	FieldKind      = "kind"
	FieldStatus    = "status"
	FieldDelivery  = "delivery"
	FieldSeverity  = "severity"
	FieldOutcome   = "outcome" // an action's outcome
	FieldEventID   = "event_id"
	FieldBucket    = "bucket"
	FieldRequestID = "request_id"
	FieldMessageID = "message_id"
	FieldAlert     = "alert" // the whole alert document, on an undelivered alert only
	FieldErr       = "err"
	FieldDelayMS   = "delay_ms" // a canary's time from the call to its arrival
	FieldUncovered = "uncovered"
	FieldTo        = "to" // where a report went: ToSecurityHub, ToChat, ToCentral
)

// Kinds of alert line.
const (
	KindBucket   = "bucket"        // an alert about one bucket or the account
	KindSummary  = "sweep-summary" // the summary a sweep run ends with
	KindFight    = "fight"         // a setting fixed again and again, to the operations topic
	KindBudget   = "sweep-budget"  // a sweep run's fix budget held, to the operations topic
	KindUndo     = "undo"          // an operator undid a fix, to the owner and the operations topic
	KindCoverage = "coverage"      // account-regions of the organization not covered, to the operations topic
	KindTrail    = "trail"         // no trail feeds the rule in a stack's region, to the operations topic
)

// Term is one comparison of a CloudWatch Logs JSON filter pattern.
type Term struct {
	Field string
	Value string
}

// Is compares a field with a value.
func Is(field, value string) Term { return Term{Field: field, Value: value} }

// Pattern renders terms as a CloudWatch Logs JSON filter pattern, all of them
// required: { $.msg = "alert" && $.kind = "bucket" }.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
func Pattern(terms ...Term) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = fmt.Sprintf("$.%s = %q", t.Field, t.Value)
	}
	return "{ " + strings.Join(parts, " && ") + " }"
}

// Selector is the JSON selector of a field, for a metric dimension.
func Selector(field string) string { return "$." + field }

// AlertLines matches every bucket alert line.
func AlertLines() string {
	return Pattern(Is(FieldMsg, MsgAlert), Is(FieldKind, KindBucket))
}

// UnjournaledLines matches every write made without a durable journal.
func UnjournaledLines() string { return Pattern(Is(FieldMsg, MsgUnjournaled)) }

// ReportFailedLines matches every report beside the alert that failed, of
// either kind.
func ReportFailedLines() string { return Pattern(Is(FieldMsg, MsgReportFailed)) }

// NoSecondOpinionLines matches every policy written without AWS's check.
func NoSecondOpinionLines() string { return Pattern(Is(FieldMsg, MsgNoSecondOpinion)) }

// FightLines matches every fight noticed (once per bucket, setting and
// window).
func FightLines() string { return Pattern(Is(FieldMsg, MsgFight)) }

// CanaryLines matches every canary's arrival.
func CanaryLines() string { return Pattern(Is(FieldMsg, MsgCanary)) }

// CoverageLines matches every scheduled coverage check.
func CoverageLines() string { return Pattern(Is(FieldMsg, MsgCoverage)) }

// UndeliveredLines matches every alert line, of either kind, whose alert
// reached neither SNS nor the fallback queue.
func UndeliveredLines() string {
	return Pattern(Is(FieldMsg, MsgAlert), Is(FieldDelivery, string(Undelivered)))
}

// SweepStart is why a sweep run starts outside its schedule: the remediate
// function starts one at once after a guarded call (events may have been
// missed while bucketguard was blind or disarmed).
type SweepStart struct {
	// Cause says who called what, for the run's log and summary.
	Cause string `json:"cause"`
	// EventID is the guarded call's CloudTrail event id.
	EventID string `json:"event_id"`
}

// SweepStartEvent is the sweep function's payload for a start: the one
// spelling both functions use.
type SweepStartEvent struct {
	Start *SweepStart `json:"bucketguard_start,omitempty"`
}
