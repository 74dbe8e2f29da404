package emulator

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/bucketguard/bucketguard/remediations/op"
)

// Proxy is a reverse proxy on loopback between the SDK and an AWS emulator.
// It names each request's operation ("s3:PutBucketPolicy", "sns:Publish",
// "s3control:GetPublicAccessBlock", ...), counts it, and applies the first
// matching Rule: an error status with the service's error body, a delay, a
// dropped connection, or a hook run before the request goes through.
type Proxy struct {
	URL    string
	server *httptest.Server
	target *url.URL
	rp     *httputil.ReverseProxy

	mu       sync.Mutex
	rules    []*Rule
	calls    []Call
	attempts map[string]int
}

// Call is one request the proxy saw.
type Call struct {
	Op     op.Operation
	Bucket string
}

// Rule is one fault. Op names an operation, or "*" for any; Bucket, when
// set, limits it to one bucket. Attempts are the 1-based attempts it applies
// to (every one of this op and bucket when empty).
type Rule struct {
	Op       string
	Bucket   string
	Attempts []int
	// Status and Code answer with an AWS error (Code in the body).
	Status  int
	Code    string
	Message string
	// Delay holds the request before it goes on (or fails).
	Delay time.Duration
	// Drop closes the connection without an answer.
	Drop bool
	// Before runs before the request is forwarded (delete a bucket
	// mid-flight, for example).
	Before func()
	// Answer, when set, is answered with 200 as a JSON body: a stand-in
	// for a service the emulator lacks (IAM Access Analyzer's check).
	Answer string
}

// NewProxy starts a proxy to target (an http://127.0.0.1:port URL).
func NewProxy(target string) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("proxy target %q: %w", target, err)
	}
	p := &Proxy{target: u, attempts: map[string]int{}}
	p.rp = httputil.NewSingleHostReverseProxy(u)
	p.server = httptest.NewServer(http.HandlerFunc(p.serve)) // binds 127.0.0.1
	p.URL = p.server.URL
	return p, nil
}

// Close stops the proxy.
func (p *Proxy) Close() { p.server.Close() }

// Add appends fault rules; the first match applies.
func (p *Proxy) Add(rules ...*Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, rules...)
}

// Kill makes the proxy drop every request from now on, as if the process
// that sends them had died.
func (p *Proxy) Kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append([]*Rule{{Op: "*", Drop: true}}, p.rules...)
}

// Reset forgets rules and counts.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules, p.calls, p.attempts = nil, nil, map[string]int{}
}

// Calls returns the operations seen, in order (retries included).
func (p *Proxy) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Call(nil), p.calls...)
}

// Count returns how many calls matched the operations (all when none).
func (p *Proxy) Count(ops ...string) int {
	n := 0
	for _, c := range p.Calls() {
		if len(ops) == 0 {
			n++
			continue
		}
		for _, o := range ops {
			if string(c.Op) == o {
				n++
			}
		}
	}
	return n
}

// Writes counts the S3 and S3 Control calls that change something.
func (p *Proxy) Writes() int {
	n := 0
	for _, c := range p.Calls() {
		name := string(c.Op)
		if (strings.HasPrefix(name, "s3:") || strings.HasPrefix(name, "s3control:")) && !strings.Contains(name, ":Get") && !strings.Contains(name, ":List") && !strings.Contains(name, ":Head") {
			n++
		}
	}
	return n
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	name, bucket := Operation(r, body)
	p.mu.Lock()
	key := name + " " + bucket
	p.attempts[key]++
	attempt := p.attempts[key]
	p.calls = append(p.calls, Call{Op: op.Operation(name), Bucket: bucket})
	var rule *Rule
	for _, rl := range p.rules {
		if rl.matches(name, bucket, attempt) {
			rule = rl
			break
		}
	}
	p.mu.Unlock()

	r.Body = io.NopCloser(strings.NewReader(string(body)))
	r.ContentLength = int64(len(body))
	if rule == nil {
		p.rp.ServeHTTP(w, r)
		return
	}
	if rule.Delay > 0 {
		select {
		case <-time.After(rule.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if rule.Before != nil {
		rule.Before()
	}
	switch {
	case rule.Drop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				if tc, ok := conn.(*net.TCPConn); ok {
					tc.SetLinger(0) // a reset, as a dropped connection looks
				}
				conn.Close()
				return
			}
		}
		writeError(w, name, http.StatusBadGateway, "ConnectionDropped", "the proxy could not drop this connection")
	case rule.Status != 0:
		writeError(w, name, rule.Status, rule.Code, rule.Message)
	case rule.Answer != "":
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, rule.Answer)
	default:
		p.rp.ServeHTTP(w, r)
	}
}

func (rl *Rule) matches(op, bucket string, attempt int) bool {
	if rl.Op != "*" && rl.Op != op {
		return false
	}
	if rl.Bucket != "" && rl.Bucket != bucket {
		return false
	}
	if len(rl.Attempts) == 0 {
		return true
	}
	for _, a := range rl.Attempts {
		if a == attempt {
			return true
		}
	}
	return false
}

// writeError answers as the service would: S3 and S3 Control with an XML
// <Error>, the query protocols (SNS, STS) with an <ErrorResponse>, the JSON
// protocol (SQS) with a JSON body.
func writeError(w http.ResponseWriter, op string, status int, code, msg string) {
	if code == "" {
		code = http.StatusText(status)
	}
	if msg == "" {
		msg = "injected by the fault proxy"
	}
	switch {
	case strings.HasPrefix(op, "sqs:"):
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("x-amzn-query-error", code+";Sender")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"__type":"com.amazonaws.sqs#%s","message":%q}`, code, msg)
	case strings.HasPrefix(op, "sns:"), strings.HasPrefix(op, "sts:"):
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>`, code, msg)
	default:
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Error><Code>%s</Code><Message>%s</Message><RequestId>FAULTPROXY</RequestId><HostId>fault-proxy</HostId></Error>`, code, msg)
	}
}

var subresources = map[string]string{
	"policy": "BucketPolicy", "policyStatus": "BucketPolicyStatus", "acl": "BucketAcl", "publicAccessBlock": "PublicAccessBlock",
	"encryption": "BucketEncryption", "tagging": "BucketTagging", "ownershipControls": "BucketOwnershipControls",
	"versioning": "BucketVersioning", "logging": "BucketLogging", "location": "BucketLocation", "cors": "BucketCors",
	"website": "BucketWebsite", "lifecycle": "BucketLifecycleConfiguration",
}

var (
	targetRE = regexp.MustCompile(`^[A-Za-z0-9_]+\.([A-Za-z]+)$`)
	scopeRE  = regexp.MustCompile(`Credential=[^/]+/[^/]+/[^/]+/([a-z0-9-]+)/aws4_request`)
)

// Operation names the AWS operation of a request and the bucket it is for.
func Operation(r *http.Request, body []byte) (op, bucket string) {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		if m := targetRE.FindStringSubmatch(t); m != nil {
			svc := "sqs"
			switch {
			case strings.HasPrefix(t, "AWSSecurityTokenService"):
				svc = "sts"
			case strings.HasPrefix(t, "DynamoDB_"):
				svc = "dynamodb"
			}
			return svc + ":" + m[1], ""
		}
	}
	service := ""
	if m := scopeRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		service = m[1]
	}
	if service == "access-analyzer" && r.URL.Path == "/policy/check-no-public-access" {
		return "access-analyzer:CheckNoPublicAccess", "" // REST-JSON: the path names it
	}
	if service != "" && service != "s3" {
		// Query protocol: the action is a form field.
		values, _ := url.ParseQuery(string(body))
		if a := values.Get("Action"); a != "" {
			return service + ":" + a, ""
		}
		if a := r.URL.Query().Get("Action"); a != "" {
			return service + ":" + a, ""
		}
		return service + ":" + r.Method, ""
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	if rest, ok := strings.CutPrefix(path, "v20180820/"); ok {
		return controlOperation(r, rest)
	}
	bucket, key, _ := strings.Cut(path, "/")
	q := r.URL.Query()
	for sub, name := range subresources {
		if _, ok := q[sub]; ok {
			return "s3:" + verb(r.Method) + name, bucket
		}
	}
	switch {
	case bucket == "" && r.Method == http.MethodGet:
		return "s3:ListBuckets", ""
	case key != "":
		return "s3:" + r.Method + "Object", bucket
	case r.Method == http.MethodPut:
		return "s3:CreateBucket", bucket
	case r.Method == http.MethodDelete:
		return "s3:DeleteBucket", bucket
	case r.Method == http.MethodHead:
		return "s3:HeadBucket", bucket
	}
	return "s3:" + r.Method + "Bucket", bucket
}

// controlOperation names an S3 Control request by its path (after
// /v20180820/); for a bucket's access points the bucket, when the request
// names it, stands in the call record.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_AWS_S3_Control.html
func controlOperation(r *http.Request, path string) (op, bucket string) {
	v := verb(r.Method)
	parts := strings.Split(path, "/")
	switch {
	case path == "configuration/publicAccessBlock":
		return "s3control:" + v + "PublicAccessBlock", ""
	case path == "accesspoint":
		return "s3control:ListAccessPoints", r.URL.Query().Get("bucket")
	case len(parts) == 2 && parts[0] == "accesspoint":
		return "s3control:" + map[string]string{"Get": "GetAccessPoint", "Put": "CreateAccessPoint", "Delete": "DeleteAccessPoint"}[v], ""
	case len(parts) == 3 && parts[0] == "accesspoint" && parts[2] == "policy":
		return "s3control:" + v + "AccessPointPolicy", ""
	case len(parts) == 3 && parts[0] == "accesspoint" && parts[2] == "policyStatus":
		return "s3control:GetAccessPointPolicyStatus", ""
	case path == "accesspointforobjectlambda":
		return "s3control:ListAccessPointsForObjectLambda", ""
	case len(parts) == 3 && parts[0] == "accesspointforobjectlambda" && parts[2] == "policy":
		return "s3control:" + v + "AccessPointPolicyForObjectLambda", ""
	case len(parts) == 3 && parts[0] == "accesspointforobjectlambda" && parts[2] == "policyStatus":
		return "s3control:GetAccessPointPolicyStatusForObjectLambda", ""
	case len(parts) == 3 && parts[0] == "accesspointforobjectlambda" && parts[2] == "configuration":
		return "s3control:" + v + "AccessPointConfigurationForObjectLambda", ""
	case path == "mrap/instances":
		return "s3control:ListMultiRegionAccessPoints", ""
	case len(parts) == 3 && parts[0] == "mrap" && parts[1] == "instances":
		return "s3control:GetMultiRegionAccessPoint", ""
	case len(parts) == 4 && parts[0] == "mrap" && parts[3] == "policy":
		return "s3control:GetMultiRegionAccessPointPolicy", ""
	case len(parts) == 4 && parts[0] == "mrap" && parts[3] == "policystatus":
		return "s3control:GetMultiRegionAccessPointPolicyStatus", ""
	case path == "async-requests/mrap/put-policy":
		return "s3control:PutMultiRegionAccessPointPolicy", ""
	case path == "async-requests/mrap/create":
		return "s3control:CreateMultiRegionAccessPoint", ""
	case parts[0] == "tags":
		return "s3control:" + map[string]string{"Get": "ListTagsForResource", "Put": "TagResource", "POST": "TagResource", "Delete": "UntagResource"}[v], ""
	}
	return "s3control:" + v + path, ""
}

func verb(method string) string {
	switch method {
	case http.MethodGet:
		return "Get"
	case http.MethodPut:
		return "Put"
	case http.MethodDelete:
		return "Delete"
	}
	return method
}
