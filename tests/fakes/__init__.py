"""Protocol-level fakes and throwaway plugin distributions used by the tests."""
