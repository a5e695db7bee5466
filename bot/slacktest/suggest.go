package slacktest

// BlockSuggestion describes someone typing into an external_select: Value is
// what they typed so far, ActionID and BlockID name the element, and ViewID
// the modal holding it (its stored callback_id and private_metadata are sent
// along, unless CallbackID or PrivateMetadata are set).
type BlockSuggestion struct {
	ActionID, BlockID, Value, ViewID, CallbackID, PrivateMetadata string
}

// BlockSuggestion sends a block_suggestion interactive envelope
// (accepts_response_payload true; no trigger_id, as Slack sends none) and
// returns its ID. The app answers with its options in the ack:
// {"options":[...]} — at most 100, and the frame under 20 KB.
func (s *Server) BlockSuggestion(userID string, b BlockSuggestion) string {
	s.mu.Lock()
	p := s.basePayload("block_suggestion", userID)
	delete(p, "trigger_id")
	p["action_id"], p["block_id"], p["value"] = b.ActionID, b.BlockID, b.Value
	p["container"] = map[string]any{"type": "view", "view_id": b.ViewID}
	p["view"] = s.viewObject(b.ViewID, b.CallbackID, b.PrivateMetadata, nil)
	s.mu.Unlock()
	return s.SendEnvelope("interactive", p, true, 0)
}
