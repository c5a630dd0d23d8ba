"""One Textual widget per pane; each renders frozen snapshots and never touches the machine."""
