package config

import (
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// schemaKeys lists the YAML key paths of t's leaves: clients.<client>.name,
// clients.<client>.sites[].url. A map of scalars or a list of scalars is one
// leaf (integrations.pagerduty.schedules, admins), and so is a type that
// reads itself (yaml.Unmarshaler).
func schemaKeys(t reflect.Type, path string, out *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]()) || t == reflect.TypeFor[time.Duration]() {
		*out = append(*out, path)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		for name, ft := range yamlFields(t) {
			schemaKeys(ft, strings.TrimPrefix(path+"."+name, "."), out)
		}
	case reflect.Map:
		if scalar(t.Elem()) {
			*out = append(*out, path)
			return
		}
		schemaKeys(t.Elem(), path+".<"+singular(path)+">", out)
	case reflect.Slice:
		if scalar(t.Elem()) {
			*out = append(*out, path)
			return
		}
		schemaKeys(t.Elem(), path+"[]", out)
	default:
		*out = append(*out, path)
	}
}

func scalar(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() != reflect.Struct && t.Kind() != reflect.Map && t.Kind() != reflect.Slice
}

// singular names a map's keys after the map: clients → client.
func singular(path string) string {
	last := path[strings.LastIndex(path, ".")+1:]
	return strings.TrimSuffix(last, "s")
}

// exampleKeys lists the key paths a YAML document sets, named as
// schemaKeys names them (t is the type the node decodes into).
func exampleKeys(n *yaml.Node, t reflect.Type, path string, out map[string]bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		exampleKeys(n.Content[0], t, path, out)
		return
	}
	leaf := reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]())
	switch {
	case !leaf && t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			if ft, ok := fields[n.Content[i].Value]; ok {
				exampleKeys(n.Content[i+1], ft, strings.TrimPrefix(path+"."+n.Content[i].Value, "."), out)
			}
		}
	case !leaf && t.Kind() == reflect.Map && !scalar(t.Elem()) && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			exampleKeys(n.Content[i+1], t.Elem(), path+".<"+singular(path)+">", out)
		}
	case !leaf && t.Kind() == reflect.Slice && !scalar(t.Elem()) && n.Kind == yaml.SequenceNode:
		for _, item := range n.Content {
			exampleKeys(item, t.Elem(), path+"[]", out)
		}
	default:
		out[path] = true
	}
}
