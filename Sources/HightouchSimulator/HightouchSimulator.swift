// HightouchSimulator: module under construction.
