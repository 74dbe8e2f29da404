package events

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// GuardChange is one guarded call, as read from a CloudTrail event: who did
// what to which part of bucketguard.
type GuardChange struct {
	EventID   string    `json:"event_id"`
	Name      Name      `json:"event_name"`
	Source    string    `json:"event_source"`
	Time      time.Time `json:"event_time"`
	Region    string    `json:"region"`
	Account   string    `json:"account"`
	Actor     Actor     `json:"actor"`
	SourceIP  string    `json:"source_ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	ErrorCode string    `json:"error_code,omitempty"`
	// Part is the part the call touches; "" when the name is not guarded
	// or belongs to another service.
	Part Part `json:"part,omitempty"`
	// Resource is what the record names: a trail, rule, function, role,
	// alarm or log group name, a topic, subscription or key ARN, a queue
	// URL. It is as the caller wrote it: a name or an ARN; the names of a
	// call on several (DeleteAlarms) are joined with ", ".
	Resource string `json:"resource,omitempty"`
}

// Guarded reports whether the change is a successful guarded call: one that
// may have blinded or disarmed bucketguard, if it touched bucketguard's own
// resources (the rule decides that; the parser knows no deployed names).
func (g GuardChange) Guarded() bool {
	return g.ErrorCode == "" && g.Part != ""
}

// ParseGuard reads an EventBridge "AWS API Call via CloudTrail" event (or a
// bare CloudTrail record) for a guarded call. It never panics; input that is
// not a well-formed CloudTrail event is an error wrapping ErrMalformed. A
// well-formed event for another call parses with Part "".
func ParseGuard(raw []byte) (GuardChange, error) {
	env, rec, err := decode(raw)
	if err != nil {
		return GuardChange{}, err
	}
	c, err := header(env, rec)
	if err != nil {
		return GuardChange{}, err
	}
	g := GuardChange{
		EventID: c.EventID, Name: c.Name, Source: c.Source, Time: c.Time, Region: c.Region, Account: c.Account,
		Actor: c.Actor, SourceIP: c.SourceIP, UserAgent: c.UserAgent, ErrorCode: c.ErrorCode,
	}
	guard, ok := LookupGuard(c.Name)
	if !ok || guard.Source != c.Source {
		return g, nil
	}
	if !regionRE.MatchString(g.Region) {
		return GuardChange{}, malformed("awsRegion %q is not a region", g.Region)
	}
	if !accountRE.MatchString(g.Account) {
		return GuardChange{}, malformed("account %q is not a 12-digit account id", g.Account)
	}
	g.Part = guard.Part
	if g.ErrorCode != "" {
		return g, nil // a failed call changed nothing: what it named does not matter
	}
	params, err := requestParams(rec.RequestParameters)
	if err != nil {
		return GuardChange{}, err
	}
	g.Resource, err = guardedResource(guard, params, rec.Resources)
	if err != nil {
		return GuardChange{}, err
	}
	return g, nil
}

// guardedResource reads the field of the record that names the part. A
// trail call names its trail in name (StopLogging, DeleteTrail, UpdateTrail)
// or trailName (the event selector calls).
// https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_StopLogging.html
// https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_PutEventSelectors.html
func guardedResource(g Guard, params map[string]json.RawMessage, resources []resource) (string, error) {
	switch g.Field {
	case "resources.ARN":
		for _, r := range resources {
			if r.ARN != "" {
				return r.ARN, nil
			}
		}
		return "", malformed("%s names no resource ARN", g.Name)
	case "":
		for _, f := range []string{"name", "trailName"} {
			if s, ok, err := stringParam(params, f); err != nil || ok {
				return s, err
			}
		}
		return "", malformed("%s names no trail", g.Name)
	}
	s, ok, err := stringParam(params, g.Field)
	if err != nil {
		var list []string
		if json.Unmarshal(params[g.Field], &list) != nil {
			return "", malformed("requestParameters.%s is neither a string nor a list of strings", g.Field)
		}
		list = slices.DeleteFunc(list, func(s string) bool { return s == "" })
		s, ok, err = strings.Join(list, ", "), len(list) > 0, nil
	}
	if !ok {
		err = malformed("%s has no requestParameters.%s", g.Name, g.Field)
	}
	return s, err
}

// stringParam reads a non-empty string parameter; ok is false when it is
// absent or empty.
func stringParam(params map[string]json.RawMessage, field string) (string, bool, error) {
	raw, present := params[field]
	if !present {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, malformed("requestParameters.%s is not a string", field)
	}
	return s, s != "", nil
}
