package infra

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// What EC2, and the aws provider before it, refuse in the resources the
// program creates; the mocks stand for both, so they refuse it too, never
// kinder. EC2's RunInstances takes at most 16 KB of user data, counted
// after base64 is decoded; its tag restrictions are 50 tags a resource,
// keys of 1 to 128 characters not starting with "aws:", values of at most
// 256. The provider takes user data as text or as base64, not both.
const (
	ec2MaxUserData = 16384
	ec2MaxTags     = 50
	ec2MaxTagKey   = 128
	ec2MaxTagValue = 256
)

// ec2Refusal is the error EC2 or the provider answers a resource of these
// inputs with, in their words; nil when they would create it.
func ec2Refusal(typ string, in resource.PropertyMap) error {
	if !strings.HasPrefix(typ, "aws:ec2/") {
		return nil
	}
	if err := tagRefusal(in["tags"]); err != nil {
		return err
	}
	if typ != "aws:ec2/instance:Instance" {
		return nil
	}
	if root := plain(in["rootBlockDevice"]); root.IsObject() {
		if err := tagRefusal(root.ObjectValue()["tags"]); err != nil {
			return err
		}
	}
	return userDataRefusal(in)
}

// userDataRefusal is RunInstances' answer to the instance's user data.
func userDataRefusal(in resource.PropertyMap) error {
	text, isText := plainString(in["userData"])
	encoded, isBase64 := plainString(in["userDataBase64"])
	if isText && isBase64 {
		return errors.New(`Conflicting configuration arguments: "user_data": conflicts with user_data_base64`)
	}
	raw := []byte(text)
	if isBase64 {
		var err error
		if raw, err = base64.StdEncoding.DecodeString(encoded); err != nil {
			return errors.New("InvalidParameterValue: Invalid BASE64 encoding of user data")
		}
	}
	if len(raw) > ec2MaxUserData {
		return fmt.Errorf("InvalidParameterValue: User data is limited to %d bytes", ec2MaxUserData)
	}
	return nil
}

// tagRefusal is EC2's answer to a resource's tags.
func tagRefusal(v resource.PropertyValue) error {
	v = plain(v)
	if !v.IsObject() {
		return nil
	}
	tags := v.ObjectValue()
	if len(tags) > ec2MaxTags {
		return errors.New("TagLimitExceeded: The maximum number of Tags for a resource has been reached.")
	}
	for k, t := range tags {
		value, _ := plainString(t)
		switch key := string(k); {
		case len([]rune(key)) > ec2MaxTagKey:
			return fmt.Errorf("InvalidParameterValue: Tag key exceeds the maximum length of %d characters", ec2MaxTagKey)
		case strings.HasPrefix(strings.ToLower(key), "aws:"):
			return errors.New("InvalidParameterValue: Tag keys starting with 'aws:' are reserved for internal use")
		case len([]rune(value)) > ec2MaxTagValue:
			return fmt.Errorf("InvalidParameterValue: Tag value exceeds the maximum length of %d characters", ec2MaxTagValue)
		}
	}
	return nil
}

// plain is v without its secret wrapper: EC2 sees the value.
func plain(v resource.PropertyValue) resource.PropertyValue {
	if v.IsSecret() {
		return v.SecretValue().Element
	}
	return v
}

// plainString is v's string, and whether v is one at all.
func plainString(v resource.PropertyValue) (string, bool) {
	v = plain(v)
	if !v.IsString() {
		return "", false
	}
	return v.StringValue(), true
}

// The mock refuses what EC2 and the provider refuse, at their limits.
func TestEC2MockRefusesWhatEC2Refuses(t *testing.T) {
	b64 := func(n int) resource.PropertyValue {
		return resource.MakeSecret(resource.NewStringProperty(base64.StdEncoding.EncodeToString(make([]byte, n))))
	}
	text := func(n int) resource.PropertyValue { return resource.NewStringProperty(strings.Repeat("x", n)) }
	tags := func(n, keyLen, valueLen int, prefix string) resource.PropertyValue {
		m := resource.PropertyMap{}
		for i := range n {
			k := fmt.Sprintf("%s%0*d", prefix, keyLen-len(prefix), i)
			m[resource.PropertyKey(k)] = resource.NewStringProperty(strings.Repeat("v", valueLen))
		}
		return resource.NewObjectProperty(m)
	}
	const instance = "aws:ec2/instance:Instance"
	for _, c := range []struct {
		name, typ, want string
		in              resource.PropertyMap
	}{
		{"text at the limit", instance, "", resource.PropertyMap{"userData": text(16384)}},
		{"text over it", instance, "User data is limited to 16384 bytes", resource.PropertyMap{"userData": text(16385)}},
		{"base64 at the limit", instance, "", resource.PropertyMap{"userDataBase64": b64(16384)}},
		{"base64 over it, counted decoded", instance, "User data is limited to 16384 bytes", resource.PropertyMap{"userDataBase64": b64(16385)}},
		{"not base64", instance, "Invalid BASE64 encoding of user data", resource.PropertyMap{"userDataBase64": resource.NewStringProperty("#cloud-config")}},
		{"both", instance, `"user_data": conflicts with user_data_base64`, resource.PropertyMap{"userData": text(1), "userDataBase64": b64(1)}},
		{"50 tags of the longest", "aws:ec2/vpc:Vpc", "", resource.PropertyMap{"tags": tags(50, 128, 256, "k")}},
		{"51 tags", "aws:ec2/vpc:Vpc", "TagLimitExceeded", resource.PropertyMap{"tags": tags(51, 8, 1, "k")}},
		{"a key too long", "aws:ec2/subnet:Subnet", "Tag key exceeds the maximum length of 128", resource.PropertyMap{"tags": tags(1, 129, 1, "k")}},
		{"a value too long", "aws:ec2/subnet:Subnet", "Tag value exceeds the maximum length of 256", resource.PropertyMap{"tags": tags(1, 8, 257, "k")}},
		{"a reserved key", "aws:ec2/vpc:Vpc", "reserved", resource.PropertyMap{"tags": tags(1, 8, 1, "aws:")}},
		{"the root disk's tags", instance, "Tag value exceeds", resource.PropertyMap{"rootBlockDevice": resource.NewObjectProperty(resource.PropertyMap{"tags": tags(1, 8, 300, "k")})}},
		{"not EC2", "libvirt:index/volume:Volume", "", resource.PropertyMap{"tags": tags(60, 8, 1, "k")}},
	} {
		err := ec2Refusal(c.typ, c.in)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}
