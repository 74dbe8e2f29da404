// Package chat tells each alert to a chat channel (Slack, Microsoft Teams)
// through Amazon Q Developer in chat applications (formerly AWS Chatbot): an
// SNS topic mapped to a channel, carrying messages in its documented custom
// notification format. A message in any other format is dropped by the
// service without an error, so the format is tested against its schema
// (testdata), and a publish that fails is a report-failed log line.
// https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html
package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/plan"
)

// Notification is one custom notification.
type Notification struct {
	Version  string   `json:"version"`
	Source   string   `json:"source"`
	ID       string   `json:"id,omitempty"`
	Content  Content  `json:"content"`
	Metadata Metadata `json:"metadata"`
}

// Content is what the channel shows.
type Content struct {
	TextType    string   `json:"textType"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	NextSteps   []string `json:"nextSteps,omitempty"`
	Keywords    []string `json:"keywords,omitempty"`
}

// Metadata threads a target's notifications together.
type Metadata struct {
	ThreadID          string            `json:"threadId"`
	Summary           string            `json:"summary"`
	EventType         string            `json:"eventType"`
	RelatedResources  []string          `json:"relatedResources,omitempty"`
	AdditionalContext map[string]string `json:"additionalContext,omitempty"`
}

// Bounds kept under what a chat message shows.
const (
	maxTitle       = 250
	maxDescription = 4000
	maxFindings    = 10
)

// Render is the notification of a result: the alert's subject as title, its
// summary and most severe findings as description, the severity and next
// steps.
func Render(res remediations.Result) Notification {
	m := alert.Render(res)
	d := m.Document
	var b strings.Builder
	fmt.Fprintf(&b, "*%s*\n*Severity:* %s   *Status:* %s   *Owner:* %s", d.Summary, strings.ToUpper(string(d.Severity)), d.Status, d.Owner)
	if d.Event != nil {
		fmt.Fprintf(&b, "\n*Change:* %s by %s", d.Event.Name, d.Event.ActorARN)
	}
	for _, f := range plan.MostSevere(res.Findings, maxFindings) {
		fmt.Fprintf(&b, "\n• [%s] %s", f.Severity, f.Summary)
	}
	for _, a := range res.Actions {
		if a.Outcome != remediations.Skipped {
			fmt.Fprintf(&b, "\n→ %s: %s", a.Name, strings.ToUpper(string(a.Outcome)))
		}
	}
	n := Notification{
		Version: "1.0", Source: "custom", ID: incident(res),
		Content: Content{TextType: "client-markdown", Title: cut(m.Subject, maxTitle), Description: cut(b.String(), maxDescription),
			NextSteps: nextSteps(res), Keywords: []string{"bucketguard", string(d.Severity), string(d.Status)}},
		Metadata: Metadata{ThreadID: "bucketguard/" + res.Target.Account + "/" + res.Target.Region + "/" + res.Target.Name(), Summary: cut(d.Summary, maxTitle),
			EventType: "bucketguard-alert", AdditionalContext: map[string]string{"account": d.Account, "region": d.Region, "severity": string(d.Severity),
				"status": string(d.Status), "owner": d.Owner}},
	}
	if res.Target.Bucket != "" {
		n.Metadata.RelatedResources = []string{fmt.Sprintf("arn:%s:s3:::%s", res.Target.Partition(), res.Target.Bucket)}
	}
	return n
}

func incident(res remediations.Result) string {
	switch {
	case res.Trigger != nil:
		return res.Trigger.EventID
	case res.Run != "":
		return res.Run + "/" + res.Target.Name()
	}
	return ""
}

// nextSteps says what is left to the reader, by status.
func nextSteps(res remediations.Result) []string {
	switch res.Status {
	case contract.Remediated:
		return []string{"Nothing is left public. If the change was intended, approve public read with the approval tag, or ask the owner."}
	case contract.Notified:
		return []string{"bucketguard is in notify mode and wrote nothing: remove the public access, or approve public read with the approval tag."}
	case contract.Partial, contract.Failed:
		return []string{"Some fixes did not land: read the e-mail alert's actions and errors, and finish by hand.", "Check bucketguard's role can still write the bucket (a Deny in its policy?)."}
	case contract.BucketGone:
		return []string{"Nothing to do: the bucket no longer exists."}
	}
	return []string{"Read the e-mail alert for the details."}
}

// JSON is the SNS message: the notification, as the service reads it.
func (n Notification) JSON() []byte {
	b, _ := json.Marshal(n) // plain data: cannot fail
	return b
}

// Publisher is the call that sends a notification.
type Publisher interface {
	Publish(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error)
}

var _ Publisher = (*sns.Client)(nil)

// Reporter sends each result with findings to the chat topic, beside the
// alert. It is an incident protocol Reporter.
type Reporter struct {
	SNS      Publisher
	TopicARN string
	// Sent, when set (the ledger), keeps a mark per notification, keyed as
	// the e-mail alert is (the event or sweep run, and a digest of what it
	// says): a redelivered event or a retried attempt that says the same
	// posts nothing more. An operator's run always posts.
	Sent alert.SentMarks
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Report publishes the result's notification; a clean result has none, nor
// has one already posted. A failure is a report-failed line (counted and
// alarmed on by the stack), and lets its mark go so that a retry posts.
func (r *Reporter) Report(ctx context.Context, res remediations.Result, log *slog.Logger) {
	if len(res.Findings) == 0 {
		return
	}
	key := ""
	if k := alert.Render(res).Key(); r.Sent != nil && !strings.HasPrefix(k, "operator/") {
		key = "chat/" + k
		now := time.Now()
		if r.Now != nil {
			now = r.Now()
		}
		first, err := r.Sent.MarkSent(ctx, key, now)
		switch {
		case err != nil:
			// A duplicate beats a loss: post without the mark.
			log.Warn("chat sent mark", contract.FieldErr, err.Error())
			key = ""
		case !first:
			log.Info("chat", "already", true, "key", key)
			return
		}
	}
	_, err := r.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(r.TopicARN), Message: aws.String(string(Render(res).JSON()))})
	if err != nil && key != "" {
		if uerr := r.Sent.UnmarkSent(context.WithoutCancel(ctx), key); uerr != nil {
			log.Warn("chat sent mark", contract.FieldErr, uerr.Error()) // it expires
		}
	}
	if err != nil {
		code := ""
		var ae smithy.APIError
		if errors.As(err, &ae) {
			code = ae.ErrorCode()
		}
		log.Error(contract.MsgReportFailed, contract.FieldTo, contract.ToChat, "op", string(op.Publish), "code", code, contract.FieldErr, err.Error())
	}
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n-3]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "..."
}
