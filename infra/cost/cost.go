// Package cost prices what bucketguard deploys: a bill of materials from a
// synthesized CloudFormation template (every resource, its list price, the
// fixed monthly cost per account and region), and the variable cost of
// events and sweeps from the calls the tests assert. The prices live in
// one table here; a resource type the table does not know is reported, and
// a test fails on it.
package cost

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
)

// Prices are us-east-1 list prices in USD, as the public pricing pages
// gave them on PricesAsOf. They are written down, not fetched: check them
// before relying on a figure.
const PricesAsOf = "2026-12-06"

// Price is what one resource type costs.
type Price struct {
	// Monthly is the fixed cost of one resource a month; 0 for a resource
	// billed by use only (or not at all).
	Monthly float64
	// Per says what Monthly is per, when not per resource (an alarm is
	// billed per metric it watches).
	Per string
	// Use says how the resource is billed by use, if it is.
	Use string
	// Source is the pricing page.
	Source string
}

var prices = map[string]Price{
	"AWS::CloudWatch::Alarm": {Monthly: 0.10, Per: "metric watched (standard resolution)",
		Source: "https://aws.amazon.com/cloudwatch/pricing/"},
	"AWS::CloudWatch::Dashboard": {Monthly: 3.00, Use: "the first three dashboards of an account are free; counted as paid here",
		Source: "https://aws.amazon.com/cloudwatch/pricing/"},
	"AWS::KMS::Key": {Monthly: 1.00, Use: "$0.03 per 10,000 requests",
		Source: "https://aws.amazon.com/kms/pricing/"},
	"AWS::Logs::MetricFilter": {Use: "$0.30 per custom metric for each month it receives data; no data, no charge",
		Source: "https://aws.amazon.com/cloudwatch/pricing/"},
	"AWS::Logs::LogGroup": {Use: "$0.50 per GB ingested, $0.03 per GB-month stored",
		Source: "https://aws.amazon.com/cloudwatch/pricing/"},
	"AWS::Lambda::Function": {Use: "$0.20 per million requests, $0.0000133334 per GB-second (arm64)",
		Source: "https://aws.amazon.com/lambda/pricing/"},
	"AWS::SNS::Topic": {Use: "$0.50 per million publishes (first million free), e-mail $2 per 100,000 (first 1,000 free)",
		Source: "https://aws.amazon.com/sns/pricing/"},
	"AWS::SQS::Queue": {Use: "$0.40 per million requests (first million free); empty queues cost nothing",
		Source: "https://aws.amazon.com/sqs/pricing/"},
	"AWS::DynamoDB::Table": {Use: "on demand: $0.625 per million write request units, $0.125 per million read request units, $0.25 per GB-month",
		Source: "https://aws.amazon.com/dynamodb/pricing/on-demand/"},
	"AWS::Events::Rule": {Use: "rules on AWS services' events on the default bus are free",
		Source: "https://aws.amazon.com/eventbridge/pricing/"},
	"AWS::CloudTrail::Trail": {Use: "the first copy of management events is free; the trail's S3 storage is billed",
		Source: "https://aws.amazon.com/cloudtrail/pricing/"},
	"AWS::S3::Bucket": {Use: "$0.023 per GB-month stored, requests",
		Source: "https://aws.amazon.com/s3/pricing/"},
	// Free: configuration, permissions and wiring.
	"AWS::IAM::Role": {}, "AWS::IAM::Policy": {}, "AWS::Lambda::Permission": {}, "AWS::Lambda::EventInvokeConfig": {},
	"AWS::SNS::Subscription": {}, "AWS::SNS::TopicPolicy": {}, "AWS::SQS::QueuePolicy": {}, "AWS::S3::BucketPolicy": {},
	"AWS::KMS::Alias": {}, "AWS::CDK::Metadata": {},
	"AWS::CloudFormation::StackSet": {Use: "free; the stacks it deploys are billed in their accounts",
		Source: "https://aws.amazon.com/cloudformation/pricing/"},
	"AWS::Events::EventBus": {Use: "$1.00 per million events put from other accounts (custom events)",
		Source: "https://aws.amazon.com/eventbridge/pricing/"},
	"AWS::Events::EventBusPolicy": {},
	"AWS::Events::Archive": {Use: "$0.10 per GB archived, $0.023 per GB-month stored (the members' outcomes: about 3 KB each)",
		Source: "https://aws.amazon.com/eventbridge/pricing/"},
	"AWS::StepFunctions::StateMachine": {Use: "express: $1.00 per million requests, $0.00001667 per GB-second (the heartbeat writer: one a sweep run per account and region)",
		Source: "https://aws.amazon.com/step-functions/pricing/"},
	"AWS::Scheduler::Schedule": {Use: "$1.00 per million invocations beyond 14 million a month free (the canary: about 730 a month)",
		Source: "https://aws.amazon.com/eventbridge/pricing/"},
}

// Line is one row of a bill: a resource type, how many, what they cost.
type Line struct {
	Type    string  `json:"type"`
	Count   int     `json:"count"`
	Units   int     `json:"units"` // what Monthly is per (alarm metrics), when not Count
	Each    float64 `json:"each"`
	Monthly float64 `json:"monthly"`
	Per     string  `json:"per,omitempty"`
	Use     string  `json:"use,omitempty"`
	Source  string  `json:"source,omitempty"`
}

// Bill is the bill of materials of one template.
type Bill struct {
	Lines []Line  `json:"lines"`
	Fixed float64 `json:"fixed_monthly"`
	// Unpriced are resource types the price table does not know.
	Unpriced []string `json:"unpriced,omitempty"`
}

// Of prices a synthesized template.
func Of(template []byte) (Bill, error) {
	var t struct {
		Resources map[string]struct {
			Type       string          `json:"Type"`
			Properties json.RawMessage `json:"Properties"`
		} `json:"Resources"`
	}
	if err := json.Unmarshal(template, &t); err != nil {
		return Bill{}, fmt.Errorf("template: %w", err)
	}
	lines := map[string]*Line{}
	var b Bill
	for _, r := range t.Resources {
		p, ok := prices[r.Type]
		if !ok {
			if !slices.Contains(b.Unpriced, r.Type) {
				b.Unpriced = append(b.Unpriced, r.Type)
			}
			continue
		}
		l := lines[r.Type]
		if l == nil {
			l = &Line{Type: r.Type, Each: p.Monthly, Per: p.Per, Use: p.Use, Source: p.Source}
			lines[r.Type] = l
		}
		l.Count++
		l.Units += units(r.Type, r.Properties)
	}
	for _, l := range lines {
		l.Monthly = float64(l.Units) * l.Each
		b.Fixed += l.Monthly
		b.Lines = append(b.Lines, *l)
	}
	sort.Slice(b.Lines, func(i, j int) bool {
		if b.Lines[i].Monthly != b.Lines[j].Monthly {
			return b.Lines[i].Monthly > b.Lines[j].Monthly
		}
		return b.Lines[i].Type < b.Lines[j].Type
	})
	sort.Strings(b.Unpriced)
	return b, nil
}

// units is what a resource is billed per: an alarm per metric it watches
// (one, or each metric of a metric-math expression), anything else one.
func units(typ string, props json.RawMessage) int {
	if typ != "AWS::CloudWatch::Alarm" {
		return 1
	}
	var a struct {
		Metrics []struct {
			MetricStat json.RawMessage `json:"MetricStat"`
		} `json:"Metrics"`
	}
	if json.Unmarshal(props, &a) != nil || len(a.Metrics) == 0 {
		return 1
	}
	n := 0
	for _, m := range a.Metrics {
		if m.MetricStat != nil {
			n++
		}
	}
	return max(1, n)
}

// Usage is what one unit of work calls: an event, or a bucket swept.
type Usage struct {
	Name string
	// LambdaMs and MemoryMB are the function's time and size per unit.
	LambdaMs, MemoryMB float64
	Invocations        float64
	// S3Reads are GET-class requests (reads and read-backs), S3Writes
	// PUT-class.
	S3Reads, S3Writes         float64
	PolicyChecks              float64
	DynamoWrites, DynamoReads float64
	SNSPublishes, KMSRequests float64
	SecurityHubFindings       float64
	LogBytes                  float64
	Notes                     string
}

// Variable list prices (us-east-1, as of PricesAsOf), each with its page.
const (
	lambdaRequest     = 0.20 / 1e6    // https://aws.amazon.com/lambda/pricing/
	lambdaGBSecond    = 0.0000133334  // arm64
	s3Get             = 0.0004 / 1000 // https://aws.amazon.com/s3/pricing/ (GET and other requests)
	s3Put             = 0.005 / 1000  // PUT, COPY, POST, LIST requests
	policyCheck       = 0.0005        // https://aws.amazon.com/iam/access-analyzer/pricing/ (custom policy checks)
	dynamoWrite       = 0.625 / 1e6   // https://aws.amazon.com/dynamodb/pricing/on-demand/
	dynamoRead        = 0.125 / 1e6
	snsPublish        = 0.50 / 1e6 // https://aws.amazon.com/sns/pricing/
	kmsRequest        = 0.03 / 10000
	securityHubImport = 0.00003 // https://aws.amazon.com/security-hub/pricing/ (finding ingestion, beyond 10,000 a month)
	logIngestion      = 0.50 / (1 << 30)
)

// Per1000 is the cost of 1,000 units, by service, and in all.
func (u Usage) Per1000() (map[string]float64, float64) {
	by := map[string]float64{
		"Lambda":              1000 * (u.Invocations*lambdaRequest + u.LambdaMs/1000*u.MemoryMB/1024*lambdaGBSecond),
		"S3 requests":         1000 * (u.S3Reads*s3Get + u.S3Writes*s3Put),
		"IAM Access Analyzer": 1000 * u.PolicyChecks * policyCheck,
		"DynamoDB":            1000 * (u.DynamoWrites*dynamoWrite + u.DynamoReads*dynamoRead),
		"SNS and KMS":         1000 * (u.SNSPublishes*snsPublish + u.KMSRequests*kmsRequest),
		"Security Hub":        1000 * u.SecurityHubFindings * securityHubImport,
		"CloudWatch Logs":     1000 * u.LogBytes * logIngestion,
	}
	total := 0.0
	for _, v := range by {
		total += v
	}
	return by, total
}
