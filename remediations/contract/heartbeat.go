package contract

import "strings"

// The heartbeat: after each run, a member's sweep puts one event on the
// organization's central bus (BUCKETGUARD_HEARTBEAT_BUS); the admin stack
// keeps the latest per account and region in a table, and bucketguard
// coverage reads it. EventBridge sets the event's account (the sender's);
// the detail says the region and what the run came to.
const (
	HeartbeatSource     = "bucketguard"
	HeartbeatDetailType = "bucketguard heartbeat"
	// OutcomeDetailType is a member's outcome event on the same bus: one
	// per evaluation that found something (every status but clean), from
	// the event function and the sweep alike. Its detail is the alert's
	// machine document (alert schema), the same JSON the owner's message
	// carries.
	OutcomeDetailType = "bucketguard outcome"
)

// The heartbeat table's attributes.
const (
	// HeartbeatKey is the partition key: "<account>/<region>".
	HeartbeatKey     = "pk"
	HeartbeatAt      = "at"
	HeartbeatAccount = "account"
	HeartbeatRegion  = "region"
	// HeartbeatDetail is the event's detail, as JSON (HeartbeatDetail).
	HeartbeatDetail = "detail"
)

// Heartbeat is the detail of a heartbeat event: the region (the bus is
// in another one), and the run's outcomes.
type Heartbeat struct {
	Region  string         `json:"region"`
	Run     string         `json:"run"`
	Mode    string         `json:"mode"`
	Started string         `json:"started"`
	Seen    int            `json:"seen"`
	Failing int            `json:"failing"`
	Outcome map[Status]int `json:"statuses"`
}

// BusRegion is the region of an event bus ARN
// (arn:<partition>:events:<region>:<account>:event-bus/<name>): the central
// bus is in the admin account's region, which the senders call.
func BusRegion(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) < 6 {
		return ""
	}
	return parts[3]
}
