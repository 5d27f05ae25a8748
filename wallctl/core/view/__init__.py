"""What a wall draws, as bounded projections of the alarm picture: the rows of each list, the summary numbers, the
worst state per map element. Built the same way for a screen in the controller's process and for a display node
that receives them over the wire (never the 200,000 alarms themselves)."""
