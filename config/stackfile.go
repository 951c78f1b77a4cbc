package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// StackFile is the path of a stack's configuration file, as Pulumi.yaml's
// stackConfigDir places it.
func StackFile(projectDir, stack string) string {
	return filepath.Join(projectDir, "stacks", "Pulumi."+stack+".yaml")
}

// ReadStackFile returns the footprint keys of a stack file (without the
// namespace) as the strings Pulumi would hand the program: scalars as
// written, lists and maps as JSON. Keys of other namespaces are left alone.
func ReadStackFile(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("stack file %s does not exist", path)
		}
		return nil, err
	}
	var doc struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %v", path, firstLine(err.Error()))
	}
	if err := quotedVersions(data); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range doc.Config {
		ns, key, ok := strings.Cut(k, ":")
		if !ok || ns != Namespace {
			continue
		}
		if key == "" {
			return nil, fmt.Errorf("%s: empty key %q", path, k)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("%s:%s: set twice in %s", Namespace, key, path)
		}
		s, err := scalarOrJSON(v)
		if err != nil {
			return nil, fmt.Errorf("%s:%s: %w", Namespace, key, err)
		}
		out[key] = s
	}
	return out, nil
}

// quotedVersions refuses a version written as a YAML number: YAML reads
// 27.0 as 27 and 1.30 as 1.3, so the guest would install another version
// than the one written, silently. Only the YAML node still knows the
// literal (a JSON number has lost it), so this is the one place to tell.
func quotedVersions(data []byte) error {
	var doc struct {
		Config map[string]yaml.Node `yaml:"config"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s:%s: %w", Namespace, KeyVersions, err)
	}
	n, ok := doc.Config[Namespace+":"+KeyVersions]
	if !ok || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, v := n.Content[i].Value, n.Content[i+1]
		if v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		if v.Kind == yaml.ScalarNode && (v.ShortTag() == "!!int" || v.ShortTag() == "!!float") {
			return fmt.Errorf("%s: %s is a YAML number; quote it (%q)", SectionKey(KeyVersions, name), v.Value, v.Value)
		}
	}
	return nil
}

// ParseOverrides reads KEY=VALUE pairs from the command line on top of a
// stack file's values. SECTION.KEY=VALUE sets one key of a section (a
// backend's, as in libvirt.uri=qemu+ssh://lab/system), as Pulumi's
// `config set --path` would.
func ParseOverrides(values map[string]string, pairs []string) error {
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		k = strings.TrimPrefix(strings.TrimSpace(k), Namespace+":")
		if !ok || k == "" {
			return fmt.Errorf("--set %q: want KEY=VALUE", p)
		}
		sec, field, nested := strings.Cut(k, ".")
		if !nested {
			values[k] = v
			continue
		}
		if sec == "" || field == "" {
			return fmt.Errorf("--set %q: want SECTION.KEY=VALUE", p)
		}
		m := map[string]any{}
		if raw, set := values[sec]; set && json.Unmarshal([]byte(raw), &m) != nil {
			return fmt.Errorf("--set %q: %s:%s is not a map", p, Namespace, sec)
		}
		m[field] = v
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		values[sec] = string(b)
	}
	return nil
}

func scalarOrJSON(v any) (string, error) {
	switch t := v.(type) {
	case nil:
		return "", nil
	case string:
		return t, nil
	case map[string]any:
		if _, secure := t["secure"]; secure && len(t) == 1 {
			return "", fmt.Errorf("encrypted values are not supported in stack files; set secrets with pulumi config set --secret")
		}
	}
	switch v.(type) {
	case []any, map[string]any:
		b, err := json.Marshal(v)
		return string(b), err
	}
	return fmt.Sprint(v), nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
