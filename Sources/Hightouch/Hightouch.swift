// Hightouch: module under construction.
