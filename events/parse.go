package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// ErrMalformed marks input that is not a well-formed CloudTrail event for S3.
// Callers test for it with errors.Is; the CLI maps it to exit status 2.
var ErrMalformed = errors.New("malformed event")

// MaxEventBytes bounds the input. EventBridge caps an event at 256 KB, so
// anything larger did not come from it.
const MaxEventBytes = 256 * 1024

// DetailType is the detail-type of the EventBridge events bucketguard handles.
const DetailType = "AWS API Call via CloudTrail"

// Actor is the identity that made the call (CloudTrail's userIdentity).
type Actor struct {
	Type        string `json:"type"`
	ARN         string `json:"arn,omitempty"`
	PrincipalID string `json:"principal_id,omitempty"`
	AccountID   string `json:"account_id,omitempty"`
	UserName    string `json:"user_name,omitempty"`
	// IssuerARN is sessionContext.sessionIssuer.arn: for an assumed role, the
	// role's own ARN (with its path), where ARN is the session's.
	IssuerARN string `json:"issuer_arn,omitempty"`
	InvokedBy string `json:"invoked_by,omitempty"`
}

// String is the best single name for the actor: its ARN, else the service
// that acted for it, else its principal id.
func (a Actor) String() string {
	switch {
	case a.ARN != "":
		return a.ARN
	case a.InvokedBy != "":
		return a.InvokedBy
	case a.PrincipalID != "":
		return a.PrincipalID
	}
	return a.Type
}

// Change is one S3 configuration change, as read from a CloudTrail event.
type Change struct {
	EventID      string    `json:"event_id"`
	Name         Name      `json:"event_name"`
	Source       string    `json:"event_source"`
	Time         time.Time `json:"event_time"`
	Region       string    `json:"region"`
	Account      string    `json:"account"`
	Bucket       string    `json:"bucket,omitempty"`
	Actor        Actor     `json:"actor"`
	SourceIP     string    `json:"source_ip,omitempty"`
	UserAgent    string    `json:"user_agent,omitempty"`
	ErrorCode    string    `json:"error_code,omitempty"`
	ErrorMessage string    `json:"error_message,omitempty"`
	// RequestTags are the tags a PutBucketTagging (the whole set) or a
	// TagResource (added or changed) call asked for, when the event records
	// them; nil otherwise.
	RequestTags map[string]string `json:"request_tags,omitempty"`
	// RemovedTags are the keys an UntagResource call removed.
	RemovedTags []string `json:"removed_tags,omitempty"`
	// AccessPoint is the access point an access point event is about.
	AccessPoint *AccessPoint `json:"access_point,omitempty"`
	// Resource is the ARN a TagResource or UntagResource call was about.
	Resource string `json:"resource,omitempty"`
}

// AccessPoint names an access point: of a bucket, Object Lambda, or
// Multi-Region (Scope says which).
type AccessPoint struct {
	Scope Scope  `json:"scope"`
	Name  string `json:"name"`
}

// envelope is the EventBridge wrapper around a CloudTrail record.
type envelope struct {
	Version    *string         `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Region     string          `json:"region"`
	Detail     json.RawMessage `json:"detail"`
}

type record struct {
	EventVersion       string          `json:"eventVersion"`
	UserIdentity       *identity       `json:"userIdentity"`
	EventTime          string          `json:"eventTime"`
	EventSource        string          `json:"eventSource"`
	EventName          string          `json:"eventName"`
	AWSRegion          string          `json:"awsRegion"`
	SourceIPAddress    string          `json:"sourceIPAddress"`
	UserAgent          string          `json:"userAgent"`
	ErrorCode          string          `json:"errorCode"`
	ErrorMessage       string          `json:"errorMessage"`
	RequestParameters  json.RawMessage `json:"requestParameters"`
	EventID            string          `json:"eventID"`
	RecipientAccountID string          `json:"recipientAccountId"`
	Resources          []resource      `json:"resources"`
}

type identity struct {
	Type           string          `json:"type"`
	PrincipalID    string          `json:"principalId"`
	ARN            string          `json:"arn"`
	AccountID      string          `json:"accountId"`
	UserName       string          `json:"userName"`
	InvokedBy      string          `json:"invokedBy"`
	SessionContext *sessionContext `json:"sessionContext"`
}

type sessionContext struct {
	SessionIssuer *struct {
		ARN string `json:"arn"`
	} `json:"sessionIssuer"`
}

type resource struct {
	Type string `json:"type"`
	ARN  string `json:"ARN"`
}

var (
	accountRE      = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE       = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
	eventVersionRE = regexp.MustCompile(`^1\.[0-9]{1,3}$`)
	// Bucket names: today's rules are 3-63 of [a-z0-9.-]; buckets made in
	// us-east-1 before March 2018 may also hold upper case and underscores, up
	// to 255 characters. https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
	bucketRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$`)
)

// ValidRegion reports whether s is shaped like an AWS region name.
func ValidRegion(s string) bool { return regionRE.MatchString(s) }

// ValidBucketName reports whether s can name an S3 general purpose bucket,
// legacy names included.
func ValidBucketName(s string) bool {
	return bucketRE.MatchString(s) && !strings.Contains(s, "..")
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// Parse reads an EventBridge "AWS API Call via CloudTrail" event (or a bare
// CloudTrail record) into a Change. It never panics; anything it cannot read
// with certainty is an error wrapping ErrMalformed. Events that are well
// formed but not for bucketguard (failed calls, other names, other services)
// parse without error: SkipReason says why they need nothing.
func Parse(raw []byte) (Change, error) {
	env, rec, err := decode(raw)
	if err != nil {
		return Change{}, err
	}
	return fromRecord(env, rec)
}

// decode reads the EventBridge envelope (if any) and the CloudTrail record
// in it, with the checks every parser of these events makes.
func decode(raw []byte) (envelope, record, error) {
	if len(raw) > MaxEventBytes {
		return envelope{}, record{}, malformed("event is %d bytes, more than the %d EventBridge allows", len(raw), MaxEventBytes)
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return envelope{}, record{}, malformed("event is not a JSON object")
	}
	var env envelope
	if err := json.Unmarshal(trimmed, &env); err != nil {
		return envelope{}, record{}, malformed("event is not valid JSON of the expected shape: %v", err)
	}
	detail := json.RawMessage(trimmed) // a bare CloudTrail record
	if env.Detail != nil {
		if env.Version != nil && *env.Version != "0" {
			return envelope{}, record{}, malformed("EventBridge envelope version %q is not 0", *env.Version)
		}
		if env.DetailType != DetailType {
			return envelope{}, record{}, malformed("detail-type %q is not %q", env.DetailType, DetailType)
		}
		detail = env.Detail
	} else {
		env = envelope{}
	}
	detail = bytes.TrimSpace(detail)
	if len(detail) == 0 || detail[0] != '{' {
		return envelope{}, record{}, malformed("detail is not a JSON object")
	}
	var rec record
	if err := json.Unmarshal(detail, &rec); err != nil {
		return envelope{}, record{}, malformed("CloudTrail record: %v", err)
	}
	return env, rec, nil
}

// header reads what every CloudTrail record has: name, source, version,
// time, id, region, account, actor.
func header(env envelope, rec record) (Change, error) {
	if rec.EventName == "" {
		return Change{}, malformed("eventName is missing")
	}
	if rec.EventSource == "" {
		return Change{}, malformed("eventSource is missing")
	}
	if !eventVersionRE.MatchString(rec.EventVersion) {
		return Change{}, malformed("eventVersion %q is not a CloudTrail 1.x version", rec.EventVersion)
	}
	if rec.EventTime == "" {
		return Change{}, malformed("eventTime is missing")
	}
	t, err := time.Parse(time.RFC3339, rec.EventTime)
	if err != nil {
		return Change{}, malformed("eventTime %q: %v", rec.EventTime, err)
	}
	c := Change{
		EventID:      first(rec.EventID, env.ID),
		Name:         Name(rec.EventName),
		Source:       rec.EventSource,
		Time:         t.UTC(),
		Region:       first(rec.AWSRegion, env.Region),
		Account:      first(rec.RecipientAccountID, env.Account),
		SourceIP:     rec.SourceIPAddress,
		UserAgent:    rec.UserAgent,
		ErrorCode:    rec.ErrorCode,
		ErrorMessage: rec.ErrorMessage,
	}
	if id := rec.UserIdentity; id != nil {
		c.Actor = Actor{Type: id.Type, ARN: id.ARN, PrincipalID: id.PrincipalID, AccountID: id.AccountID, UserName: id.UserName, InvokedBy: id.InvokedBy}
		if id.SessionContext != nil && id.SessionContext.SessionIssuer != nil {
			c.Actor.IssuerARN = id.SessionContext.SessionIssuer.ARN
		}
		if c.Account == "" {
			c.Account = id.AccountID
		}
	}
	if c.EventID == "" {
		return Change{}, malformed("eventID is missing")
	}
	return c, nil
}

func fromRecord(env envelope, rec record) (Change, error) {
	c, err := header(env, rec)
	if err != nil {
		return Change{}, err
	}

	// A failed call, another service or a name we do not watch needs no
	// bucket: it is skipped whole, so what follows is not required of it.
	if c.ErrorCode != "" || c.Source != EventSource || !c.Name.IsWatched() {
		return c, nil
	}
	if !regionRE.MatchString(c.Region) {
		return Change{}, malformed("awsRegion %q is not a region", c.Region)
	}
	if !accountRE.MatchString(c.Account) {
		return Change{}, malformed("account %q is not a 12-digit account id", c.Account)
	}
	params, err := requestParams(rec.RequestParameters)
	if err != nil {
		return Change{}, err
	}
	switch scope := c.Name.Scope(); {
	case scope == AccountScope:
		return c, nil
	case scope == AccessPointScope || scope == ObjectLambdaScope || scope == MultiRegionScope:
		return accessPointChange(c, scope, params, rec.Resources)
	case c.Name == TagResource || c.Name == UntagResource:
		return tagResourceChange(c, params)
	}
	c.Bucket, err = bucketOf(params, rec.Resources)
	if err != nil {
		return Change{}, err
	}
	if c.Name == PutBucketTagging {
		c.RequestTags = tagsOf(params)
	}
	return c, nil
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func requestParams(raw json.RawMessage) (map[string]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, malformed("requestParameters: %v", err)
	}
	return m, nil
}

// bucketOf finds the bucket: requestParameters.bucketName, else the
// AWS::S3::Bucket resource ARN, else a virtual-hosted Host header. CloudTrail
// has been seen to log an empty bucketName, hence the fallbacks.
func bucketOf(params map[string]json.RawMessage, resources []resource) (string, error) {
	if raw, ok := params["bucketName"]; ok {
		var name string
		if err := json.Unmarshal(raw, &name); err != nil {
			return "", malformed("requestParameters.bucketName is not a string")
		}
		if name != "" {
			if !ValidBucketName(name) {
				return "", malformed("bucket name %q is not a valid S3 bucket name", name)
			}
			return name, nil
		}
	}
	for _, r := range resources {
		if r.Type != "AWS::S3::Bucket" {
			continue
		}
		if name, ok := bucketFromARN(r.ARN); ok {
			return name, nil
		}
		return "", malformed("resource ARN %q is not an S3 bucket ARN", r.ARN)
	}
	for _, key := range []string{"Host", "host"} {
		raw, ok := params[key]
		if !ok {
			continue
		}
		for _, h := range stringOrList(raw) {
			if name, ok := bucketFromHost(h); ok {
				return name, nil
			}
		}
	}
	return "", malformed("no bucket name in requestParameters, resources or Host")
}

func bucketFromARN(arn string) (string, bool) {
	// arn:<partition>:s3:::<bucket>
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "s3" || parts[3] != "" || parts[4] != "" {
		return "", false
	}
	if !ValidBucketName(parts[5]) {
		return "", false
	}
	return parts[5], true
}

func bucketFromHost(host string) (string, bool) {
	host = strings.ToLower(strings.TrimSpace(host))
	if !strings.HasSuffix(host, ".amazonaws.com") && !strings.HasSuffix(host, ".amazonaws.com.cn") {
		return "", false
	}
	i := max(strings.LastIndex(host, ".s3."), strings.LastIndex(host, ".s3-"))
	if i <= 0 {
		return "", false // path-style: s3.<region>.amazonaws.com names no bucket
	}
	name := host[:i]
	return name, ValidBucketName(name)
}

// stringOrList reads a JSON string or a list of strings; CloudTrail writes the
// Host parameter both ways.
func stringOrList(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return many
	}
	return nil
}

// tagsOf reads requestParameters.Tagging.TagSet.Tag of a PutBucketTagging
// event. CloudTrail converts the XML body, so a single tag is an object and
// several are a list. It returns nil when the shape is anything else.
func tagsOf(params map[string]json.RawMessage) map[string]string {
	raw, ok := params["Tagging"]
	if !ok {
		return nil
	}
	var tagging struct {
		TagSet struct {
			Tag json.RawMessage `json:"Tag"`
		} `json:"TagSet"`
	}
	if json.Unmarshal(raw, &tagging) != nil {
		return nil
	}
	type tag struct {
		Key   string `json:"Key"`
		Value string `json:"Value"`
	}
	var list []tag
	if err := json.Unmarshal(tagging.TagSet.Tag, &list); err != nil {
		var one tag
		if json.Unmarshal(tagging.TagSet.Tag, &one) != nil {
			return nil
		}
		list = []tag{one}
	}
	out := make(map[string]string, len(list))
	for _, t := range list {
		if t.Key == "" {
			return nil
		}
		out[t.Key] = t.Value
	}
	return out
}
