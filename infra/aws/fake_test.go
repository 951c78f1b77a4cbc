package aws

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
)

// fakeEC2 is EC2's query API at the SDK's boundary: the real SDK client
// signs and sends its requests here and parses these answers, so what is
// tested is what AWS would be asked. It holds a region's objects, with
// tags, and refuses what AWS refuses: a security group or subnet in use by
// a live instance, a VPC with anything left in it, more instances at once
// than TerminateInstances takes.
type fakeEC2 struct {
	mu      sync.Mutex
	regions []string
	images  []string // names of Canonical's images
	offered []string // instance types
	objs    []*object
	actions []string // in order, for the tests
	// EC2 is regional: objs are home's, the region a request is signed for
	// unless it names another, whose objects are elsewhere's.
	home      string
	elsewhere map[string][]*object
}

type object struct {
	kind, id, vpc string // kind: instance, sg, subnet, rtb, igw, vpc
	tags          map[string]string
	state         string // instances: running, terminated
	assoc         string // route tables: the subnet association's id
	attached      bool   // internet gateways
}

// maxTerminate is the most instance IDs TerminateInstances takes at once,
// as its API reference documents.
const maxTerminate = 1000

func newFakeEC2(t *testing.T) (*fakeEC2, string) {
	f := &fakeEC2{regions: []string{"eu-west-1", "us-east-1"}, offered: []string{"t2.micro", "t2.small", "t3.micro"},
		home: "eu-west-1", elsewhere: map[string][]*object{},
		images: []string{"ubuntu-minimal/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-minimal-20261101"}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFAKEFOOTPRINT")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake-secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return f, srv.URL
}

// stack adds the objects `pulumi up` leaves for one prefix: a VPC with its
// subnet, route table, gateway, security group and instances.
func (f *fakeEC2) stack(prefix string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tag := map[string]string{TagPrefix: prefix}
	vpc := "vpc-" + prefix
	f.objs = append(f.objs,
		&object{kind: "vpc", id: vpc, tags: tag},
		&object{kind: "subnet", id: "subnet-" + prefix, vpc: vpc, tags: tag},
		&object{kind: "rtb", id: "rtb-" + prefix, vpc: vpc, tags: tag, assoc: "rtbassoc-" + prefix},
		&object{kind: "igw", id: "igw-" + prefix, vpc: vpc, tags: tag, attached: true},
		&object{kind: "sg", id: "sg-" + prefix, vpc: vpc, tags: tag},
	)
	for i := range n {
		f.objs = append(f.objs, &object{kind: "instance", id: fmt.Sprintf("i-%s-%d", prefix, i), vpc: vpc, tags: tag, state: "running"})
	}
}

// in runs fn on region's objects, as a request signed for region sees
// them; f.mu is held.
func (f *fakeEC2) in(region string, fn func()) {
	if region != f.home {
		home := f.objs
		f.objs = f.elsewhere[region]
		defer func() { f.elsewhere[region], f.objs = f.objs, home }()
	}
	fn()
}

// stackIn is stack in another region.
func (f *fakeEC2) stackIn(region, prefix string, n int) {
	f.mu.Lock()
	objs := f.elsewhere[region]
	f.mu.Unlock()
	other := &fakeEC2{}
	other.objs = objs
	other.stack(prefix, n)
	f.mu.Lock()
	f.elsewhere[region] = other.objs
	f.mu.Unlock()
}

// leftIn is left in another region.
func (f *fakeEC2) leftIn(region string) []string {
	f.mu.Lock()
	other := &fakeEC2{objs: f.elsewhere[region]}
	f.mu.Unlock()
	return other.left()
}

func (f *fakeEC2) left() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for _, o := range f.objs {
		if o.state != "terminated" {
			ids = append(ids, o.id)
		}
	}
	sort.Strings(ids)
	return ids
}

func (f *fakeEC2) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDFAKEFOOTPRINT/") {
		f.fail(w, 403, "AuthFailure", "request not signed with the test's credentials")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	action := r.Form.Get("Action")
	f.actions = append(f.actions, action)
	var body, code, msg string
	f.in(signedRegion(r), func() { body, code, msg = f.do(action, r.Form) })
	if code != "" {
		f.fail(w, 400, code, msg)
		return
	}
	fmt.Fprintf(w, `<%sResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>fake</requestId>%s</%sResponse>`, action, body, action)
}

// signedRegion is the region of a request's SigV4 credential scope:
// Credential=KEY/DATE/REGION/ec2/aws4_request.
func signedRegion(r *http.Request) string {
	_, scope, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	if parts := strings.Split(scope, "/"); len(parts) > 2 {
		return parts[2]
	}
	return ""
}

func (f *fakeEC2) fail(w http.ResponseWriter, status int, code, msg string) {
	w.WriteHeader(status)
	fmt.Fprintf(w, `<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>fake</RequestID></Response>`, code, msg)
}

// list is the values of a query list: Name.1, Name.2, ...
func list(form map[string][]string, name string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := form[fmt.Sprintf("%s.%d", name, i)]
		if !ok {
			return out
		}
		out = append(out, v[0])
	}
}

// matches applies the request's Filter.N (tag:KEY, tag-key, and the
// image and offering filters this backend sends).
func matches(form map[string][]string, attrs map[string]string, tags map[string]string) bool {
	for i := 1; ; i++ {
		name, ok := form[fmt.Sprintf("Filter.%d.Name", i)]
		if !ok {
			return true
		}
		values := list(form, fmt.Sprintf("Filter.%d.Value", i))
		var have []string
		switch n := name[0]; {
		case n == "tag-key":
			for k := range tags {
				have = append(have, k)
			}
		case strings.HasPrefix(n, "tag:"):
			if v, ok := tags[strings.TrimPrefix(n, "tag:")]; ok {
				have = []string{v}
			}
		default:
			have = []string{attrs[n]}
		}
		if !anyMatch(values, have) {
			return false
		}
	}
}

func anyMatch(patterns, have []string) bool {
	for _, p := range patterns {
		for _, h := range have {
			if p == h || (strings.HasSuffix(p, "*") && strings.HasPrefix(h, strings.TrimSuffix(p, "*"))) {
				return true
			}
		}
	}
	return false
}

func (f *fakeEC2) find(form map[string][]string, kind string) []*object {
	var out []*object
	for _, o := range f.objs {
		if o.kind == kind && matches(form, nil, o.tags) {
			out = append(out, o)
		}
	}
	return out
}

func (f *fakeEC2) byID(id string) *object {
	for _, o := range f.objs {
		if o.id == id {
			return o
		}
	}
	return nil
}

// inUse says whether a live instance still holds the VPC's sg or subnet.
func (f *fakeEC2) inUse(vpc string) bool {
	for _, o := range f.objs {
		if o.kind == "instance" && o.vpc == vpc && o.state != "terminated" {
			return true
		}
	}
	return false
}

func (f *fakeEC2) remove(id string) {
	for i, o := range f.objs {
		if o.id == id {
			f.objs = append(f.objs[:i], f.objs[i+1:]...)
			return
		}
	}
}

func tagSet(tags map[string]string) string {
	var b strings.Builder
	b.WriteString("<tagSet>")
	for k, v := range tags {
		fmt.Fprintf(&b, "<item><key>%s</key><value>%s</value></item>", k, v)
	}
	b.WriteString("</tagSet>")
	return b.String()
}

func (f *fakeEC2) do(action string, form map[string][]string) (body, code, msg string) {
	get := func(k string) string {
		if v := form[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	var b strings.Builder
	switch action {
	case "DescribeRegions":
		b.WriteString("<regionInfo>")
		for _, want := range list(form, "RegionName") {
			if !anyMatch([]string{want}, f.regions) {
				return "", "InvalidParameterValue", "Invalid region: " + want
			}
			fmt.Fprintf(&b, "<item><regionName>%s</regionName></item>", want)
		}
		b.WriteString("</regionInfo>")
	case "DescribeImages":
		if o := list(form, "Owner"); len(o) != 1 || o[0] != CanonicalOwner {
			return "<imagesSet/>", "", ""
		}
		b.WriteString("<imagesSet>")
		for i, name := range f.images {
			if matches(form, map[string]string{"name": name, "state": "available", "architecture": "x86_64"}, nil) {
				fmt.Fprintf(&b, "<item><imageId>ami-%04d</imageId><name>%s</name><creationDate>2026-11-0%dT00:00:00.000Z</creationDate></item>", i, name, i+1)
			}
		}
		b.WriteString("</imagesSet>")
	case "DescribeInstanceTypeOfferings":
		b.WriteString("<instanceTypeOfferingSet>")
		for _, t := range f.offered {
			if matches(form, map[string]string{"instance-type": t}, nil) {
				fmt.Fprintf(&b, "<item><instanceType>%s</instanceType><locationType>region</locationType></item>", t)
			}
		}
		b.WriteString("</instanceTypeOfferingSet>")
	case "DescribeInstances":
		b.WriteString("<reservationSet><item><instancesSet>")
		for _, o := range f.find(form, "instance") {
			fmt.Fprintf(&b, "<item><instanceId>%s</instanceId><instanceState><name>%s</name></instanceState>%s</item>", o.id, o.state, tagSet(o.tags))
		}
		b.WriteString("</instancesSet></item></reservationSet>")
	case "TerminateInstances":
		ids := list(form, "InstanceId")
		if len(ids) > maxTerminate {
			return "", "InvalidParameterValue", fmt.Sprintf("up to %d instance IDs", maxTerminate)
		}
		b.WriteString("<instancesSet>")
		for _, id := range ids {
			o := f.byID(id)
			if o == nil {
				return "", "InvalidInstanceID.NotFound", id
			}
			o.state = "terminated"
			fmt.Fprintf(&b, "<item><instanceId>%s</instanceId><currentState><name>shutting-down</name></currentState></item>", id)
		}
		b.WriteString("</instancesSet>")
	case "DescribeSecurityGroups":
		b.WriteString("<securityGroupInfo>")
		for _, o := range f.find(form, "sg") {
			fmt.Fprintf(&b, "<item><groupId>%s</groupId><groupName>%s</groupName><vpcId>%s</vpcId>%s</item>", o.id, o.id, o.vpc, tagSet(o.tags))
		}
		b.WriteString("</securityGroupInfo>")
	case "DescribeSubnets":
		b.WriteString("<subnetSet>")
		for _, o := range f.find(form, "subnet") {
			fmt.Fprintf(&b, "<item><subnetId>%s</subnetId><vpcId>%s</vpcId>%s</item>", o.id, o.vpc, tagSet(o.tags))
		}
		b.WriteString("</subnetSet>")
	case "DescribeRouteTables":
		b.WriteString("<routeTableSet>")
		for _, o := range f.find(form, "rtb") {
			assoc := ""
			if o.assoc != "" {
				assoc = fmt.Sprintf("<item><routeTableAssociationId>%s</routeTableAssociationId><main>false</main></item>", o.assoc)
			}
			fmt.Fprintf(&b, "<item><routeTableId>%s</routeTableId><vpcId>%s</vpcId><associationSet>%s</associationSet>%s</item>", o.id, o.vpc, assoc, tagSet(o.tags))
		}
		b.WriteString("</routeTableSet>")
	case "DescribeInternetGateways":
		b.WriteString("<internetGatewaySet>")
		for _, o := range f.find(form, "igw") {
			att := ""
			if o.attached {
				att = fmt.Sprintf("<item><vpcId>%s</vpcId><state>available</state></item>", o.vpc)
			}
			fmt.Fprintf(&b, "<item><internetGatewayId>%s</internetGatewayId><attachmentSet>%s</attachmentSet>%s</item>", o.id, att, tagSet(o.tags))
		}
		b.WriteString("</internetGatewaySet>")
	case "DescribeVpcs":
		b.WriteString("<vpcSet>")
		for _, o := range f.find(form, "vpc") {
			fmt.Fprintf(&b, "<item><vpcId>%s</vpcId>%s</item>", o.id, tagSet(o.tags))
		}
		b.WriteString("</vpcSet>")
	case "DeleteSecurityGroup", "DeleteSubnet":
		id := get("GroupId") + get("SubnetId")
		o := f.byID(id)
		if o == nil {
			return "", "InvalidGroup.NotFound", id
		}
		if f.inUse(o.vpc) {
			return "", "DependencyViolation", id + " has a dependent object"
		}
		f.remove(id)
		b.WriteString("<return>true</return>")
	case "DisassociateRouteTable":
		for _, o := range f.objs {
			if o.assoc == get("AssociationId") {
				o.assoc = ""
			}
		}
		b.WriteString("<return>true</return>")
	case "DeleteRouteTable":
		o := f.byID(get("RouteTableId"))
		if o == nil || o.assoc != "" {
			return "", "DependencyViolation", get("RouteTableId") + " is associated"
		}
		f.remove(o.id)
		b.WriteString("<return>true</return>")
	case "DetachInternetGateway":
		if o := f.byID(get("InternetGatewayId")); o != nil && o.vpc == get("VpcId") {
			o.attached = false
		}
		b.WriteString("<return>true</return>")
	case "DeleteInternetGateway":
		o := f.byID(get("InternetGatewayId"))
		if o == nil || o.attached {
			return "", "DependencyViolation", get("InternetGatewayId") + " is attached"
		}
		f.remove(o.id)
		b.WriteString("<return>true</return>")
	case "DeleteVpc":
		id := get("VpcId")
		for _, o := range f.objs {
			if o.vpc == id && (o.kind != "instance" || o.state != "terminated") {
				return "", "DependencyViolation", id + " still has " + o.id
			}
		}
		f.remove(id)
		b.WriteString("<return>true</return>")
	default:
		return "", "InvalidAction", action
	}
	return b.String(), "", ""
}
