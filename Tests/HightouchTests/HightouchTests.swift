// HightouchTests
