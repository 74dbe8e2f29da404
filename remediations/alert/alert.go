// Package alert renders an evaluation's Result as one SNS message: readable
// text for e-mail, the full JSON document for machines, a subject within
// SNS's limits and message attributes that let owners subscribe to their own
// buckets with a filter policy.
package alert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/plan"
)

// Limits SNS puts on a message.
// https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
const (
	// MaxSubject is the longest subject: SNS wants fewer than 100
	// characters, ASCII, no line breaks.
	MaxSubject = 99
	// MaxMessage is the most the message and its attributes may weigh
	// together (256 KiB, 262,144 bytes).
	MaxMessage = 256 * 1024
)

// Schema names the version of the JSON document.
//
// v2 (this version) names an evaluation's result "status" (it was
// "outcome", which is now only an action's), in the document and in the
// message attributes.
const Schema = "bucketguard.alert/v2"

// Unassigned is the owner attribute of a bucket without an owner tag, so that
// a catch-all subscription can filter on it.
const Unassigned = "unassigned"

// Event is the triggering CloudTrail event, as the document shows it.
type Event struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Time      time.Time `json:"time"`
	ActorARN  string    `json:"actor_arn"`
	ActorType string    `json:"actor_type"`
	SourceIP  string    `json:"source_ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
}

// Document is the machine-readable alert.
type Document struct {
	Schema   string          `json:"schema"`
	Summary  string          `json:"summary"`
	Severity plan.Severity   `json:"severity"`
	Status   contract.Status `json:"status"`
	Mode     string          `json:"mode"`
	Account  string          `json:"account"`
	Region   string          `json:"region"`
	Bucket   string          `json:"bucket,omitempty"`
	// AccessPoint names the Object Lambda or Multi-Region access point the
	// alert is about ("Multi-Region Access Point acme-global").
	AccessPoint string `json:"access_point,omitempty"`
	Owner       string `json:"owner"`
	// Source is what found it: a CloudTrail event, the scheduled sweep, or
	// an operator (the CLI).
	Source    string                      `json:"source"`
	Event     *Event                      `json:"event,omitempty"`
	Run       string                      `json:"run,omitempty"`
	Findings  []plan.Finding              `json:"findings"`
	Actions   []remediations.ActionResult `json:"actions"`
	Exemption *plan.Exemption             `json:"exemption,omitempty"`
	Notes     []string                    `json:"notes,omitempty"`
	// Unresolved says what public access may remain that no valid approval
	// keeps.
	Unresolved []string  `json:"unresolved,omitempty"`
	Error      string    `json:"error,omitempty"`
	Started    time.Time `json:"started"`
	Duration   string    `json:"duration"`
	// Truncated is true when parts were cut to fit SNS's size limit; Cut
	// says which, and each shortened value says so in its text.
	Truncated bool     `json:"truncated"`
	Cut       []string `json:"cut,omitempty"`
}

// Message is one SNS message, ready to publish.
type Message struct {
	Subject    string
	Text       string
	Document   Document
	JSON       []byte
	Attributes map[string]string
}

// Render builds the message for a result. When the final message (what
// SNS weighs: the Message parameter as sent, the subject, every attribute's
// name, type and value) is over MaxMessage, it cuts the least important
// parts first, one step at a time, and says in the document and the e-mail
// what was cut. The last step always fits.
func Render(r remediations.Result) Message {
	doc := document(r)
	m := build(doc)
	for _, c := range cuts {
		if m.Size() <= MaxMessage {
			return m
		}
		doc = c(doc)
		m = build(doc)
	}
	return m
}

func document(r remediations.Result) Document {
	d := Document{
		Schema: Schema, Severity: r.Severity, Status: r.Status, Mode: string(r.Mode),
		Account: r.Target.Account, Region: r.Target.Region, Bucket: r.Target.Bucket, Owner: r.Owner,
		Findings: r.Findings, Actions: r.Actions, Exemption: r.Exemption, Notes: r.Notes, Unresolved: r.Unresolved, Error: r.Error,
		Started: r.Started, Duration: r.Duration,
	}
	if d.Owner == "" {
		d.Owner = Unassigned
	}
	if ap := r.Target.AccessPoint; ap != nil {
		d.AccessPoint = ap.String()
	}
	switch {
	case r.Trigger != nil:
		d.Source = "event"
	case r.Run != "":
		d.Source, d.Run = "sweep", r.Run
	default:
		d.Source = "operator"
	}
	if c := r.Trigger; c != nil {
		d.Event = &Event{ID: c.EventID, Name: string(c.Name), Time: c.Time, ActorARN: c.Actor.String(), ActorType: c.Actor.Type,
			SourceIP: c.SourceIP, UserAgent: c.UserAgent}
	}
	d.Summary = summary(d)
	return d
}

func build(d Document) Message {
	d.Truncated = len(d.Cut) > 0
	js := marshal(d)
	return Message{Subject: d.Subject(), Text: d.Text(), Document: d, JSON: js, Attributes: attributes(d)}
}

// Fit shortens a document by the steps Render takes, least important
// first, until fits says it fits; the last step leaves the headline, counts
// and where to look. A carrier with another limit than SNS's (an
// EventBridge entry) fits the same document its own way.
func Fit(d Document, fits func(Document) bool) Document {
	for _, c := range cuts {
		if fits(d) {
			return d
		}
		d = c(d)
		d.Truncated = len(d.Cut) > 0
	}
	return d
}

// JSON is the document as an alert carries it.
func (d Document) JSON() []byte { return marshal(d) }

// marshal encodes without HTML escaping: "<" stays one byte instead of six,
// and a mail client shows the text as written.
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // plain data: cannot fail
	return bytes.TrimRight(b.Bytes(), "\n")
}

// Structured is the Message parameter for MessageStructure "json": e-mail
// gets the text, every other protocol the JSON document.
func (m Envelope) Structured() string {
	return string(marshal(map[string]string{"default": string(m.JSON), "email": m.Text}))
}

// Size is what SNS counts against its limit for this message: the Message
// parameter as sent (escaped), the subject, and each attribute's name, data
// type and value, in bytes.
func (m Message) Size() int { return m.Envelope().Size() }

// Size is what SNS counts against its limit, as for Message.Size.
func (m Envelope) Size() int {
	n := len(m.Structured()) + len(m.Subject)
	for k, v := range m.Attributes {
		n += len(k) + len("String") + len(v)
	}
	return n
}

// cuts shorten a document, least important first: the access points'
// before/after documents, notes, the wording of the findings and the
// number listed (the least severe go first), the bucket's own documents
// (the policy as it was is also in the journal, the log and CloudTrail),
// and last everything but the headline. Each says what it cut.
var cuts = []func(Document) Document{
	func(d Document) Document { return cutBeforeAfter(d, 16*1024, true) },
	func(d Document) Document { return cutBeforeAfter(d, 2*1024, true) },
	func(d Document) Document { return cutBeforeAfter(d, 0, true) },
	func(d Document) Document {
		d.Notes = cutList(d.Notes, 10, 512, &d, "notes")
		d.Unresolved = cutList(d.Unresolved, 10, 1024, &d, "the list of public access that may remain")
		if len(d.Error) > 1024 {
			d.Error = cut(d.Error, 1024)
			d.Cut = append(d.Cut, "the error, to 1 KB")
		}
		return d
	},
	func(d Document) Document { return cutFindings(d, 100, 1024) },
	func(d Document) Document { return cutBeforeAfter(d, 16*1024, false) },
	func(d Document) Document { return cutBeforeAfter(d, 2*1024, false) },
	func(d Document) Document { return cutFindings(d, 20, 256) },
	func(d Document) Document { return cutBeforeAfter(d, 0, false) },
	func(d Document) Document {
		// Last resort: the headline, counts and where to look.
		min := Document{Schema: d.Schema, Summary: d.Summary, Severity: d.Severity, Status: d.Status, Mode: d.Mode,
			Account: d.Account, Region: d.Region, Bucket: d.Bucket, AccessPoint: cut(d.AccessPoint, 256), Owner: cut(d.Owner, 256),
			Source: d.Source, Run: d.Run, Started: d.Started, Duration: d.Duration,
			Findings: []plan.Finding{}, Actions: []remediations.ActionResult{}}
		if e := d.Event; e != nil {
			min.Event = &Event{ID: e.ID, Name: e.Name, Time: e.Time, ActorARN: cut(e.ActorARN, 512), ActorType: e.ActorType,
				SourceIP: cut(e.SourceIP, 64), UserAgent: cut(e.UserAgent, 256)}
		}
		min.Cut = append(d.Cut, fmt.Sprintf("all %d findings and %d actions: the remediate function's log has the evaluation", len(d.Findings), len(d.Actions)))
		return min
	},
}

// cutBeforeAfter shortens every before/after value longer than limit bytes
// (0: removes them): the access points' only, or every action's.
func cutBeforeAfter(d Document, limit int, accessPointsOnly bool) Document {
	acts := slices.Clone(d.Actions)
	n := 0
	for i := range acts {
		if accessPointsOnly && acts[i].AccessPoint == "" {
			continue
		}
		for _, s := range []*string{&acts[i].Before, &acts[i].After} {
			if len(*s) > limit {
				if limit == 0 {
					*s = fmt.Sprintf("[cut: %d bytes]", len(*s))
				} else {
					*s = cut(*s, limit)
				}
				n++
			}
		}
	}
	d.Actions = acts
	if n > 0 {
		whose := ""
		if accessPointsOnly {
			whose = " of access points"
		}
		what := fmt.Sprintf("%d before/after document(s)%s, to %d KB each", n, whose, limit/1024)
		if limit == 0 {
			what = fmt.Sprintf("%d before/after document(s)%s, left out", n, whose)
		}
		d.Cut = append(d.Cut, what)
	}
	return d
}

// cutFindings keeps at most n findings and actions, each text at most limit
// bytes.
func cutFindings(d Document, n, limit int) Document {
	fs := slices.Clone(d.Findings)
	short := 0
	for i := range fs {
		if len(fs[i].Summary) > limit {
			fs[i].Summary = cut(fs[i].Summary, limit)
			short++
		}
	}
	if len(fs) > n {
		d.Cut = append(d.Cut, fmt.Sprintf("%d of %d findings (the least severe), left out", len(fs)-n, len(fs)))
		fs = plan.MostSevere(fs, n)
	}
	if short > 0 {
		d.Cut = append(d.Cut, fmt.Sprintf("%d finding summaries, to %d bytes each", short, limit))
	}
	d.Findings = fs
	acts := slices.Clone(d.Actions)
	for i := range acts {
		for _, s := range []*string{&acts[i].Why, &acts[i].Detail, &acts[i].Error, &acts[i].Skipped} {
			if len(*s) > limit {
				*s = cut(*s, limit)
			}
		}
	}
	if len(acts) > n {
		d.Cut = append(d.Cut, fmt.Sprintf("%d of %d actions, left out", len(acts)-n, len(acts)))
		acts = acts[:n]
	}
	d.Actions = acts
	return d
}

func cutList(xs []string, n, limit int, d *Document, what string) []string {
	out := slices.Clone(xs)
	changed := false
	for i := range out {
		if len(out[i]) > limit {
			out[i], changed = cut(out[i], limit), true
		}
	}
	if len(out) > n {
		out, changed = out[:n], true
	}
	if changed {
		d.Cut = append(d.Cut, what)
	}
	return out
}

// cut shortens s to at most limit bytes of it (on a rune boundary) and says
// so.
func cut(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	n := limit
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return fmt.Sprintf("%s... [truncated: %d of %d bytes shown]", s[:n], n, len(s))
}

// headline names the worst kind of problem found.
func headline(d Document) string {
	ids := map[plan.FindingID]bool{}
	publicWrite := false
	for _, f := range d.Findings {
		ids[f.ID] = true
		if (f.ID == plan.PublicPolicyStatement || f.ID == plan.PublicACLGrant || f.ID == plan.PublicAccessPointStatement) && f.Severity == plan.Critical {
			publicWrite = true
		}
	}
	switch {
	case ids[plan.BucketGone]:
		return "bucket deleted"
	case publicWrite:
		return "public write"
	case ids[plan.PublicPolicyStatement] || ids[plan.PublicACLGrant] || ids[plan.AWSJudgesPolicyPublic]:
		return "public read"
	case ids[plan.PublicAccessPointStatement] || ids[plan.AWSJudgesAccessPointPublic]:
		return "public access point"
	case ids[plan.BPAOff] || ids[plan.AccountBPAOff]:
		return "Block Public Access off"
	case ids[plan.EncryptionWeaker]:
		return "weak default encryption"
	case ids[plan.TLSNotRequired]:
		return "TLS not required"
	case ids[plan.ApprovalGranted]:
		return "public read approved"
	case ids[plan.ApprovalExpired] || ids[plan.ApprovalInvalid]:
		return "approval expired"
	}
	if len(d.Findings) > 0 {
		return strings.ReplaceAll(string(d.Findings[0].ID), "-", " ")
	}
	return "no findings"
}

func (d Document) where() string {
	if d.Bucket == "" && d.AccessPoint != "" {
		return d.AccessPoint
	}
	if d.Bucket == "" {
		return "account " + d.Account
	}
	return d.Bucket
}

func summary(d Document) string {
	verb := map[contract.Status]string{
		contract.Remediated: "remediated", contract.Partial: "partly remediated",
		contract.Failed: "could not remediate", contract.Notified: "found (notify mode, nothing changed)",
		contract.Reported: "reported", contract.BucketGone: "found the bucket gone",
		contract.Clean: "found nothing on",
	}[d.Status]
	return fmt.Sprintf("%s: %s %s (%s, %s)", headline(d), verb, d.where(), d.Account, d.Region)
}

// Subject is the SNS subject of the document: ASCII, one line, under 100
// characters.
func (d Document) Subject() string {
	return Subject(fmt.Sprintf("bucketguard %s: %s %s - %s", strings.ToUpper(string(d.Severity)), d.where(), d.Status, headline(d)))
}

// Subject makes s an SNS subject: ASCII, one line, under 100 characters.
func Subject(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 0x20 && r < 0x7f {
			b.WriteRune(r)
		} else {
			b.WriteByte('?')
		}
	}
	s = b.String()
	if len(s) > MaxSubject {
		s = s[:MaxSubject-3] + "..."
	}
	return s
}

func attributes(d Document) map[string]string {
	a := map[string]string{
		"account":  d.Account,
		"region":   d.Region,
		"severity": string(d.Severity),
		"status":   string(d.Status),
		"owner":    d.Owner,
		"mode":     d.Mode,
	}
	if d.Bucket != "" {
		a["bucket"] = d.Bucket
	}
	if d.AccessPoint != "" {
		a["access_point"] = d.AccessPoint
	}
	if d.Event != nil {
		a["event_name"] = d.Event.Name
	}
	if d.Exemption != nil && d.Exemption.Used {
		a["exemption"] = "approved-public"
	}
	for k, v := range a {
		if v == "" {
			delete(a, k)
		}
	}
	return a
}
