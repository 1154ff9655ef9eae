"""The ids a bulk form sends and the outcome message: bad input is a refusal, never an error."""

from backoffice.bulk import MAX_SELECTED, BulkOutcome, selected_ids


def test_ids_are_kept_in_order_once_each_and_anything_else_is_refused():
    outcome = BulkOutcome(noun="key")
    ids = selected_ids(["3", " 1 ", "3", "abc", "-2", "0", "", "١٢", "9" * 13], outcome)
    assert ids == [3, 1]
    assert [reason for _label, reason in outcome.refused] == ["not an id"] * 6


def test_a_selection_longer_than_a_page_is_cut_with_a_reason():
    outcome = BulkOutcome(noun="event")
    ids = selected_ids([str(n) for n in range(1, MAX_SELECTED + 3)], outcome)
    assert ids == list(range(1, MAX_SELECTED + 1))
    assert outcome.refused == [
        (f"#{MAX_SELECTED + 1}", f"more than {MAX_SELECTED} selected"),
        (f"#{MAX_SELECTED + 2}", f"more than {MAX_SELECTED} selected"),
    ]


def test_the_message_counts_rows_done_and_names_each_refusal_with_its_reason():
    outcome = BulkOutcome(noun="key", done=[1, 2])
    outcome.refuse("#7", "no such key")
    assert outcome.message("assigned to Ada") == (
        "2 keys assigned to Ada. 1 refused: #7 (no such key)."
    )
    assert BulkOutcome(noun="key", done=[1]).message("e-mailed") == "1 key e-mailed."


def test_a_long_list_of_refusals_is_shortened():
    outcome = BulkOutcome(noun="event")
    for n in range(15):
        outcome.refuse(f"#{n}", "no such event")
    message = outcome.message("reprocessed")
    assert message.startswith("0 events reprocessed. 15 refused: #0 (no such event);")
    assert message.endswith("#9 (no such event); 5 more.")
