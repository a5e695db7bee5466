package config

import "testing"

func TestChannelRefsSetWritesBack(t *testing.T) {
	cfg := &Config{
		Channels: Channels{Support: "#ops-support", Finance: "C0FINANCE"},
		Changes:  Changes{Channel: "#changes"},
		Clients: map[string]Client{
			"acme":   {Channels: ClientChannels{Alerts: "#acme-alerts", General: "#acme"}},
			"globex": {Channels: ClientChannels{General: "C0GLOBEX"}},
		},
	}
	refs := cfg.ChannelRefs()
	var paths []string
	for _, r := range refs {
		paths = append(paths, r.Path+"="+r.Value)
		if IsChannelName(r.Value) {
			r.Set("C_" + r.Value[1:])
		}
	}
	want := []string{"channels.support=#ops-support", "channels.finance=C0FINANCE", "changes.channel=#changes",
		"clients.acme.channels.alerts=#acme-alerts", "clients.acme.channels.general=#acme", "clients.globex.channels.general=C0GLOBEX"}
	if len(paths) != len(want) {
		t.Fatalf("refs = %v, want %v", paths, want)
	}
	for i := range want {
		if paths[i] != want[i] {
			t.Fatalf("refs[%d] = %s, want %s", i, paths[i], want[i])
		}
	}
	if cfg.Channels.Support != "C_ops-support" || cfg.Changes.Channel != "C_changes" ||
		cfg.Clients["acme"].Channels.Alerts != "C_acme-alerts" || cfg.Clients["acme"].Channels.General != "C_acme" ||
		cfg.Clients["globex"].Channels.General != "C0GLOBEX" || cfg.Channels.Finance != "C0FINANCE" {
		t.Fatalf("not written back: %+v %+v", cfg.Channels, cfg.Clients)
	}
}
