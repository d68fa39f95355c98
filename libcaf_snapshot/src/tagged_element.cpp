#include "caf/snapshot/detail/tagged_element.hpp"

namespace caf::snapshot::detail {

tagged_element::tagged_element(caf::strong_actor_ptr sender,
                               caf::message_id mid, forwarding_stack stages,
                               caf::message content, uint64_t colour)
    : caf::mailbox_element(std::move(sender), mid, std::move(stages)),
      colour(colour),
      msg_(std::move(content)) {
  // nop
}

tagged_element::~tagged_element() {
  // nop
}

caf::type_erased_tuple& tagged_element::content() {
  return msg_;
}

// Hands out the message itself rather than `msg_.content()`: a `message`
// is a tuple of its own and stays valid when empty. Control elements carry
// an empty message, so creating one allocates nothing but the element.
const caf::type_erased_tuple& tagged_element::content() const {
  return msg_;
}

caf::message tagged_element::move_content_to_message() {
  return std::move(msg_);
}

caf::message tagged_element::copy_content_to_message() const {
  return msg_;
}

caf::mailbox_element_ptr make_control(control_kind kind, uint64_t id,
                                      caf::message_priority prio) {
  auto ptr = new tagged_element(nullptr, caf::make_message_id(prio), {},
                                caf::message{}, external_colour);
  ptr->control = kind;
  ptr->snapshot_id = id;
  return caf::mailbox_element_ptr{ptr};
}

caf::mailbox_element_ptr stamp(caf::mailbox_element_ptr x, uint64_t colour) {
  auto content = x->move_content_to_message();
  auto ptr = new tagged_element(std::move(x->sender), x->mid,
                                std::move(x->stages), std::move(content),
                                colour);
  return caf::mailbox_element_ptr{ptr};
}

} // namespace caf::snapshot::detail
